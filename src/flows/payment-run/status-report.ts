/**
 * Status back from the bank: a pain.002 becomes one status per transfer (by EndToEndId). Accepted
 * and settled transfers are registered as payments in Odoo against their bills (idempotent by
 * EndToEndId); rejected ones raise an exception with the reason in words and release their bills
 * for the next run (compensation). The order follows: sent → accepted | partially_accepted |
 * rejected → settled.
 */
import { money, type PaymentOrderState } from '../../domain/index.ts';
import {
  describePaymentStatus,
  parsePain002,
  resolveTransactionStatuses,
  type ResolvedTransactionStatus,
  type StatusReason,
} from '../../formats/iso20022/pain002/index.ts';
import type { Tx } from '../../store/index.ts';
import type { PaymentRunDeps } from './deps.ts';
import { readLineRows, readOrderRow, type LineRow } from './order-rows.ts';
import { resolvePaymentAccount } from './propose.ts';
import { transitionOrder } from './state-machine.ts';

/** What happened to one reported transfer. */
export interface AppliedTransactionStatus {
  endToEndId: string | undefined;
  orderId: string | undefined;
  status: string;
  outcome: string;
  description: string;
  reasons: string[];
  applied: boolean;
  note?: string;
}

/** The result of applying one status report. */
export interface StatusReportResult {
  version: string;
  messageId: string | undefined;
  originalMessageId: string | undefined;
  transactions: AppliedTransactionStatus[];
  orders: { orderId: string; state: PaymentOrderState }[];
  registered: number;
  registrationFailures: { endToEndId: string; error: string }[];
}

function reasonWords(reasons: readonly StatusReason[]): string[] {
  return reasons.map((r) =>
    [r.code ?? r.proprietary, r.description, ...r.additionalInfo]
      .filter((p) => p !== undefined && p !== '')
      .join(': '),
  );
}

type LineStatus = LineRow['status'];

function lineStatusOf(outcome: string): LineStatus | undefined {
  switch (outcome) {
    case 'settled':
      return 'settled';
    case 'accepted':
      return 'accepted';
    case 'rejected':
    case 'cancelled':
      return 'rejected';
    case 'pending':
    case 'partial':
    case 'payee-verification':
    case 'unknown':
      return 'pending';
    default:
      return undefined;
  }
}

const RANK: Record<LineStatus, number> = { proposed: 0, pending: 1, accepted: 2, settled: 3, rejected: 3 };

/** Where the order should end given its lines, following only allowed transitions from `from`. */
function targetStates(from: PaymentOrderState, lines: readonly LineRow[]): PaymentOrderState[] {
  const final = lines.every(
    (l) => l.status === 'accepted' || l.status === 'settled' || l.status === 'rejected',
  );
  if (!final) return [];
  const rejected = lines.filter((l) => l.status === 'rejected').length;
  const allSettled = lines.every((l) => l.status === 'settled' || l.status === 'rejected');
  const path: PaymentOrderState[] = [];
  if (from === 'sent') {
    if (rejected === lines.length) return ['rejected'];
    path.push(rejected > 0 ? 'partially_accepted' : 'accepted');
  }
  if ((from === 'sent' || from === 'accepted' || from === 'partially_accepted') && allSettled)
    path.push('settled');
  return path;
}

/** Applies a pain.002 to the orders it reports on, then registers accepted transfers in Odoo. */
export async function applyStatusReport(
  deps: PaymentRunDeps,
  input: { xml: string; actor: string; correlationId?: string | undefined },
): Promise<StatusReportResult> {
  const parsed = parsePain002(input.xml);
  if (!parsed.ok) throw parsed.error;
  const report = parsed.value;
  let statuses: (ResolvedTransactionStatus & { orderIdHint?: string })[] = resolveTransactionStatuses(report);
  // A group- or block-level verdict without transaction details applies to every transfer of the original message.
  if (statuses.length === 0 && report.originalMessageId !== undefined) {
    const level = report.paymentInfos.find((p) => p.status !== undefined);
    const status = level?.status ?? report.groupStatus;
    if (status !== undefined) {
      const order = await deps.db.query<{ id: string }>(
        'SELECT id FROM payment_orders WHERE message_id = $1',
        [report.originalMessageId],
      );
      const orderId = order.rows[0]?.id;
      if (orderId !== undefined) {
        const info = describePaymentStatus(status);
        statuses = (await readLineRows(deps.db, orderId)).map((l) => ({
          originalEndToEndId: l.end_to_end_id,
          status,
          level: level === undefined ? ('group' as const) : ('payment-info' as const),
          outcome: info.outcome,
          description: info.description,
          reasons: [...(level?.reasons ?? report.groupReasons)],
        }));
      }
    }
  }
  const transactions: AppliedTransactionStatus[] = [];
  const byOrder = new Map<
    string,
    { status: ResolvedTransactionStatus; result: AppliedTransactionStatus }[]
  >();
  for (const s of statuses) {
    const result: AppliedTransactionStatus = {
      endToEndId: s.originalEndToEndId,
      orderId: undefined,
      status: s.status,
      outcome: s.outcome,
      description: s.description,
      reasons: reasonWords(s.reasons),
      applied: false,
    };
    transactions.push(result);
    if (s.originalEndToEndId === undefined) {
      result.note = 'the report names no EndToEndId for this status';
      continue;
    }
    const line = await deps.db.query<{ order_id: string }>(
      'SELECT order_id FROM payment_order_lines WHERE end_to_end_id = $1',
      [s.originalEndToEndId],
    );
    const orderId = line.rows[0]?.order_id;
    if (orderId === undefined) {
      result.note = 'no transfer of Kontor has this EndToEndId';
      continue;
    }
    result.orderId = orderId;
    const list = byOrder.get(orderId);
    if (list === undefined) byOrder.set(orderId, [{ status: s, result }]);
    else list.push({ status: s, result });
  }

  const orders: StatusReportResult['orders'] = [];
  for (const [orderId, items] of byOrder) {
    const state = await deps.db.transaction((tx) => applyToOrder(deps, tx, orderId, items, input));
    orders.push({ orderId, state });
  }
  const registration = await registerPendingPayments(deps, {
    orderIds: [...byOrder.keys()],
    actor: input.actor,
    correlationId: input.correlationId,
  });
  // Registration may have settled nothing new, but states are re-read so the caller sees the end result.
  for (const o of orders) o.state = (await readOrderRow(deps.db, o.orderId)).state;
  return {
    version: report.version,
    messageId: report.messageId,
    originalMessageId: report.originalMessageId,
    transactions,
    orders,
    registered: registration.registered,
    registrationFailures: registration.failures,
  };
}

async function applyToOrder(
  deps: PaymentRunDeps,
  tx: Tx,
  orderId: string,
  items: { status: ResolvedTransactionStatus; result: AppliedTransactionStatus }[],
  input: { actor: string; correlationId?: string | undefined },
): Promise<PaymentOrderState> {
  let order = await readOrderRow(tx, orderId, true);
  if (!['released', 'sent', 'accepted', 'partially_accepted'].includes(order.state)) {
    for (const { result } of items)
      result.note = `order ${orderId} is ${order.state}; the status was not applied`;
    return order.state;
  }
  // A status report proves the bank has the file, so a released order counts as sent.
  if (order.state === 'released')
    order = await transitionOrder(deps, tx, {
      orderId,
      to: 'sent',
      actor: input.actor,
      reason: 'status report received',
      correlationId: input.correlationId,
    });
  const now = deps.clock.now().toISOString();
  for (const { status, result } of items) {
    const e2e = status.originalEndToEndId!;
    const current = (
      await tx.query<LineRow>('SELECT * FROM payment_order_lines WHERE end_to_end_id = $1', [e2e])
    ).rows[0]!;
    const next = lineStatusOf(status.outcome);
    if (
      next === undefined ||
      RANK[next] < RANK[current.status] ||
      (current.status === 'rejected' && next !== 'rejected')
    ) {
      result.note = `transfer is already ${current.status}`;
      continue;
    }
    if (current.status === 'settled' && next === 'rejected') {
      // Money has moved: a rejection now is a return/recall case for a person, not an automatic reversal.
      result.note = 'transfer is already settled; a later rejection needs a person';
      continue;
    }
    if (next === current.status) {
      result.applied = true;
      result.note = 'already applied';
      continue;
    }
    const reason = [status.description, ...result.reasons].join('; ');
    const registrable = next === 'accepted' || next === 'settled';
    await tx.query(
      `UPDATE payment_order_lines SET status = $2, status_code = $3, status_reason = $4, updated_at = $5,
         odoo_state = CASE WHEN $6 AND odoo_state = 'none' THEN 'pending' ELSE odoo_state END
       WHERE end_to_end_id = $1`,
      [e2e, next, status.status, reason.slice(0, 1000), now, registrable],
    );
    result.applied = true;
    if (next === 'rejected') {
      const bills = (
        await tx.query<{ bill_id: string }>(
          'UPDATE payment_order_bills SET open = false WHERE end_to_end_id = $1 RETURNING bill_id',
          [e2e],
        )
      ).rows.map((b) => b.bill_id);
      await tx.query(
        'INSERT INTO payment_exceptions (id, order_id, end_to_end_id, code, reason, bill_ids, created_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)',
        [
          deps.ids.next(),
          orderId,
          e2e,
          status.status,
          `transfer ${e2e} to ${current.vendor_name} was rejected: ${reason}${current.odoo_state === 'registered' ? ` (Odoo payment ${current.odoo_payment_id} was already registered after an earlier acceptance; reverse it in Odoo)` : ''}`,
          JSON.stringify(bills),
          now,
        ],
      );
      await deps.audit(tx, {
        actor: input.actor,
        action: 'payment-order.transfer-rejected',
        resourceType: 'payment-order',
        resourceId: orderId,
        ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
        details: { endToEndId: e2e, status: status.status, reason, releasedBills: bills },
      });
    } else {
      await deps.audit(tx, {
        actor: input.actor,
        action: `payment-order.transfer-${next}`,
        resourceType: 'payment-order',
        resourceId: orderId,
        ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
        details: { endToEndId: e2e, status: status.status },
      });
    }
  }
  const lines = await readLineRows(tx, orderId);
  for (const to of targetStates(order.state, lines)) {
    order = await transitionOrder(deps, tx, {
      orderId,
      to,
      actor: input.actor,
      correlationId: input.correlationId,
    });
  }
  return order.state;
}

/** Registers every accepted transfer not yet in Odoo; a failure stays pending and is retried on the next call. */
export async function registerPendingPayments(
  deps: PaymentRunDeps,
  input: { orderIds?: string[]; actor: string; correlationId?: string | undefined },
): Promise<{ registered: number; failures: { endToEndId: string; error: string }[] }> {
  const pending = (
    await deps.db.query<LineRow & { bank_account_id: string; execution_date: string; currency: string }>(
      `SELECT l.*, o.bank_account_id, o.execution_date, o.currency FROM payment_order_lines l JOIN payment_orders o ON o.id = l.order_id
       WHERE l.odoo_state = 'pending' ${input.orderIds === undefined ? '' : 'AND l.order_id = ANY($1)'} ORDER BY l.order_id, l.seq`,
      input.orderIds === undefined ? [] : [input.orderIds],
    )
  ).rows;
  let registered = 0;
  const failures: { endToEndId: string; error: string }[] = [];
  for (const line of pending) {
    const { account, companyId } = resolvePaymentAccount(deps, line.bank_account_id);
    const bills = (
      await deps.db.query<{ bill_id: string; bill_number: string }>(
        'SELECT bill_id, bill_number FROM payment_order_bills WHERE end_to_end_id = $1 ORDER BY bill_id',
        [line.end_to_end_id],
      )
    ).rows;
    try {
      // Outside any transaction: Odoo is I/O, and the EndToEndId key makes a repeat after a crash harmless.
      const { paymentId } = await deps.payables.registerVendorPayment({
        companyId,
        journal: account.odooJournal,
        endToEndId: line.end_to_end_id,
        vendorId: line.vendor_id,
        billIds: bills.map((b) => b.bill_id),
        amount: money(BigInt(line.amount), line.currency),
        date: line.execution_date,
        memo: `${line.end_to_end_id} ${bills.map((b) => b.bill_number).join(', ')}`.slice(0, 140),
      });
      await deps.db.transaction(async (tx) => {
        await tx.query(
          `UPDATE payment_order_lines SET odoo_state = 'registered', odoo_payment_id = $2, odoo_error = NULL, updated_at = $3 WHERE end_to_end_id = $1`,
          [line.end_to_end_id, paymentId, deps.clock.now().toISOString()],
        );
        await tx.query('UPDATE payment_order_bills SET open = false WHERE end_to_end_id = $1', [
          line.end_to_end_id,
        ]);
        await deps.audit(tx, {
          actor: input.actor,
          action: 'payment-order.payment-registered',
          resourceType: 'payment-order',
          resourceId: line.order_id,
          ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
          details: {
            endToEndId: line.end_to_end_id,
            odooPaymentId: paymentId,
            bills: bills.map((b) => b.bill_id),
          },
        });
      });
      registered++;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      failures.push({ endToEndId: line.end_to_end_id, error: message });
      await deps.db.query('UPDATE payment_order_lines SET odoo_error = $2 WHERE end_to_end_id = $1', [
        line.end_to_end_id,
        message.slice(0, 1000),
      ]);
    }
  }
  return { registered, failures };
}

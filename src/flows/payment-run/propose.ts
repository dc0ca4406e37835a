/**
 * Proposal: the open vendor bills of one bank account's legal entity, in its currency and due by a
 * date, not already held by an open order, grouped into one transfer per vendor for one execution
 * date, stored as a draft order in ONE transaction with its event and audit record. The database's
 * unique partial index keeps a bill in at most one open order even when two proposals race.
 */
import {
  ConflictError,
  ErrorCodes,
  formatMoney,
  ibanProblem,
  money,
  NotFoundError,
  type OpenVendorBill,
  ValidationError,
} from '../../domain/index.ts';
import { isRfCreditorReference } from '../../formats/iso20022/pain001/index.ts';
import type { PaymentRunAccount, PaymentRunDeps, PaymentRunEntity } from './deps.ts';
import type { StoredVendorFacts } from './order-rows.ts';

/** What to propose: from which bank account, bills due by which date, paid on which day. */
export interface ProposePaymentOrderInput {
  bankAccountId: string;
  /** Bills due on or before this date (YYYY-MM-DD). */
  dueBy: string;
  /** Requested execution date (YYYY-MM-DD); defaults to today. */
  executionDate?: string | undefined;
  actor: string;
  correlationId?: string | undefined;
}

/** A bill the proposal left out, and why. */
export interface SkippedBill {
  billId: string;
  number: string;
  reason: string;
}

/** The draft order's id and the bills that were left out. */
export interface ProposalResult {
  orderId: string;
  lineCount: number;
  billCount: number;
  total: { amount: string; currency: string };
  skipped: SkippedBill[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Finds the bank account and its entity's Odoo company; throws NOT_FOUND / VALIDATION_FAILED. */
export function resolvePaymentAccount(
  deps: Pick<PaymentRunDeps, 'accounts' | 'entities'>,
  bankAccountId: string,
): { account: PaymentRunAccount; entity: PaymentRunEntity; companyId: number } {
  const account = deps.accounts.find((a) => a.id === bankAccountId);
  if (account === undefined) throw new NotFoundError(`no bank account "${bankAccountId}" in kontor.yaml`);
  const entity = deps.entities.find((e) => e.id === account.entity);
  if (entity === undefined)
    throw new NotFoundError(`bank account ${account.id} names unknown entity ${account.entity}`);
  if (entity.odooCompanyId === undefined)
    throw new ValidationError(
      `entity ${entity.id} has no odooCompanyId; the payment run cannot read its bills`,
      [{ path: `entities.${entity.id}.odooCompanyId`, message: 'required for payment runs' }],
    );
  if (account.iban === undefined)
    throw new ValidationError(`bank account ${account.id} has no IBAN; a pain.001 needs the debtor IBAN`, [
      { path: `bankAccounts.${account.id}.iban`, message: 'required for payment runs' },
    ]);
  return { account, entity, companyId: entity.odooCompanyId };
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}

interface ProposedLine {
  endToEndId: string;
  vendorId: string;
  vendorName: string;
  iban: string;
  bic: string | undefined;
  amount: bigint;
  remittance: string | undefined;
  creditorReference: string | undefined;
  bills: OpenVendorBill[];
}

function lineFor(orderId: string, seq: number, bills: OpenVendorBill[]): ProposedLine {
  const first = bills[0]!;
  const amount = bills.reduce((s, b) => s + b.amountDue.amount, 0n);
  const reference =
    bills.length === 1 ? first.paymentReference?.replace(/\s+/g, '').toUpperCase() : undefined;
  // One bill with an RF reference goes structured; otherwise the vendor's references (or bill numbers) as text.
  const structured = reference !== undefined && isRfCreditorReference(reference) ? reference : undefined;
  const remittance = bills.map((b) => b.paymentReference ?? b.number).join(', ');
  return {
    endToEndId: `${orderId}-${seq}`,
    vendorId: first.vendorId,
    vendorName: first.vendorName,
    iban: first.vendorIban!,
    bic: first.vendorBic,
    amount,
    remittance: structured === undefined ? remittance.slice(0, 140) : undefined,
    creditorReference: structured,
    bills,
  };
}

/** Proposes a draft payment order; throws PAYMENT_ORDER_EMPTY when no bill qualifies. */
export async function proposePaymentOrder(
  deps: PaymentRunDeps,
  input: ProposePaymentOrderInput,
): Promise<ProposalResult> {
  const { account, entity, companyId } = resolvePaymentAccount(deps, input.bankAccountId);
  const executionDate = input.executionDate ?? deps.clock.now().toISOString().slice(0, 10);
  for (const [path, value] of [
    ['dueBy', input.dueBy],
    ['executionDate', executionDate],
  ] as const) {
    if (!DATE.test(value))
      throw new ValidationError(`${path} must be a date YYYY-MM-DD`, [{ path, message: value }]);
  }
  const bills = await deps.payables.listOpenVendorBills({
    companyId,
    currency: account.currency,
    dueBy: input.dueBy,
  });
  const held = new Set(
    (
      await deps.db.query<{ bill_id: string }>(
        'SELECT bill_id FROM payment_order_bills WHERE entity_id = $1 AND open',
        [entity.id],
      )
    ).rows.map((r) => r.bill_id),
  );
  const skipped: SkippedBill[] = [];
  const byVendor = new Map<string, OpenVendorBill[]>();
  for (const bill of bills) {
    const skip = (reason: string) => skipped.push({ billId: bill.billId, number: bill.number, reason });
    if (held.has(bill.billId)) skip('already in an open payment order');
    else if (bill.amountDue.currency !== account.currency)
      skip(`in ${bill.amountDue.currency}, not ${account.currency}`);
    else if (bill.amountDue.amount <= 0n) skip('nothing left to pay');
    else if (bill.vendorIban === undefined) skip(`vendor ${bill.vendorName} has no bank account in Odoo`);
    else if (ibanProblem(bill.vendorIban) !== undefined)
      skip(
        `vendor ${bill.vendorName}'s bank account ${bill.vendorIban} is not a valid IBAN: ${ibanProblem(bill.vendorIban)}`,
      );
    else {
      const list = byVendor.get(bill.vendorId);
      if (list === undefined) byVendor.set(bill.vendorId, [bill]);
      else list.push(bill);
    }
  }
  if (byVendor.size === 0)
    throw new ValidationError(
      `no open vendor bills in ${account.currency} due by ${input.dueBy} to pay from ${account.id}${skipped.length > 0 ? ` (${skipped.length} skipped)` : ''}`,
      skipped.map((s) => ({ path: `bills.${s.billId}`, message: s.reason })),
      { code: ErrorCodes.PAYMENT_ORDER_EMPTY, details: { skipped } },
    );

  const orderId = deps.ids.next();
  const vendors = [...byVendor.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const lines = vendors.map((v, i) => lineFor(orderId, i + 1, byVendor.get(v)!));
  const total = lines.reduce((s, l) => s + l.amount, 0n);
  const facts: Record<string, StoredVendorFacts> = {};
  const billsOfVendor = new Map<string, OpenVendorBill[]>();
  for (const b of bills) {
    const list = billsOfVendor.get(b.vendorId);
    if (list === undefined) billsOfVendor.set(b.vendorId, [b]);
    else list.push(b);
  }
  for (const v of vendors) {
    const own = billsOfVendor.get(v)!;
    const sample = own[0]!;
    facts[v] = {
      ...(sample.vendorCreatedAt === undefined ? {} : { createdAt: sample.vendorCreatedAt.toISOString() }),
      ...(sample.bankAccountChangedAt === undefined
        ? {}
        : { bankAccountChangedAt: sample.bankAccountChangedAt.toISOString() }),
      recentBills: own.map((b) => ({
        billId: b.billId,
        amount: formatMoney(b.amountDue),
        billDate: b.billDate ?? b.dueDate ?? executionDate,
      })),
    };
  }
  const now = deps.clock.now().toISOString();
  try {
    await deps.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO payment_orders (id, entity_id, bank_account_id, execution_date, currency, state, created_by, total, line_count, vendor_facts, due_by, pain_version, message_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $13)`,
        [
          orderId,
          entity.id,
          account.id,
          executionDate,
          account.currency,
          input.actor,
          total.toString(),
          lines.length,
          JSON.stringify(facts),
          input.dueBy,
          account.painVersion,
          // MsgId (max 35) = the order id: unique per order and known before the file exists.
          orderId,
          now,
        ],
      );
      // One statement per table with array parameters: 10,000 bills are two round trips, not 20,000.
      await tx.query(
        `INSERT INTO payment_order_lines (end_to_end_id, order_id, seq, vendor_id, vendor_name, creditor_iban, creditor_bic, amount, remittance, creditor_reference, updated_at)
         SELECT e, $2, s, v, n, i, b, a, r, c, $11 FROM unnest($1::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[])
           AS t(e, s, v, n, i, b, a, r, c)`,
        [
          lines.map((l) => l.endToEndId),
          orderId,
          lines.map((_, i) => i + 1),
          lines.map((l) => l.vendorId),
          lines.map((l) => l.vendorName),
          lines.map((l) => l.iban),
          lines.map((l) => l.bic ?? null),
          lines.map((l) => l.amount.toString()),
          lines.map((l) => l.remittance ?? null),
          lines.map((l) => l.creditorReference ?? null),
          now,
        ],
      );
      const held = lines.flatMap((l) => l.bills.map((b) => ({ line: l, bill: b })));
      await tx.query(
        `INSERT INTO payment_order_bills (order_id, end_to_end_id, entity_id, bill_id, bill_number, amount, due_date)
         SELECT $1, e, $3, b, n, a, d FROM unnest($2::text[], $4::text[], $5::text[], $6::bigint[], $7::date[]) AS t(e, b, n, a, d)`,
        [
          orderId,
          held.map((h) => h.line.endToEndId),
          entity.id,
          held.map((h) => h.bill.billId),
          held.map((h) => h.bill.number),
          held.map((h) => h.bill.amountDue.amount.toString()),
          held.map((h) => h.bill.dueDate ?? null),
        ],
      );
      const totalJson = { amount: formatMoney(money(total, account.currency)), currency: account.currency };
      await deps.publish(tx, {
        type: 'kontor.payment.order.draft.v1',
        subject: orderId,
        data: {
          paymentOrderId: orderId,
          entityId: entity.id,
          state: 'draft',
          total: totalJson,
          lineCount: lines.length,
          actor: input.actor,
        },
        ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
      });
      await deps.audit(tx, {
        actor: input.actor,
        action: 'payment-order.proposed',
        resourceType: 'payment-order',
        resourceId: orderId,
        after: {
          state: 'draft',
          total: totalJson,
          bills: lines.flatMap((l) => l.bills.map((b) => b.billId)),
        },
        ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
        details: {
          bankAccountId: account.id,
          dueBy: input.dueBy,
          executionDate,
          lines: lines.length,
          skipped: skipped.length,
        },
      });
    });
  } catch (e) {
    if (isUniqueViolation(e))
      throw new ConflictError(
        'a bill of this proposal was just put into another open payment order; propose again',
        {
          code: ErrorCodes.BILL_ALREADY_IN_OPEN_ORDER,
          cause: e,
        },
      );
    throw e;
  }
  return {
    orderId,
    lineCount: lines.length,
    billCount: lines.reduce((s, l) => s + l.bills.length, 0),
    total: { amount: formatMoney(money(total, account.currency)), currency: account.currency },
    skipped,
  };
}

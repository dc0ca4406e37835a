/** Read models of payment orders for the API and CLI: list, and one order with everything it holds. */
import { money, toMoneyJson, type PaymentOrderState } from '../../domain/index.ts';
import type { PaymentRunDeps } from './deps.ts';
import {
  isoTime,
  listOrderRows,
  orderTotalJson,
  readBillRows,
  readLineRows,
  readOrderRow,
  type OrderRow,
} from './order-rows.ts';

/** One order in a list. */
export interface PaymentOrderSummary {
  id: string;
  entityId: string;
  bankAccountId: string;
  executionDate: string;
  dueBy: string;
  currency: string;
  state: PaymentOrderState;
  total: { amount: string; currency: string };
  lineCount: number;
  createdBy: string;
  createdAt: string | null;
  updatedAt: string | null;
  fileName: string | null;
}

/** One order with its transfers, bills, approvals and exceptions. */
export interface PaymentOrderDetail extends PaymentOrderSummary {
  messageId: string;
  painVersion: string;
  fileSha256: string | null;
  releasedBy: string | null;
  releasedAt: string | null;
  cancelReason: string | null;
  lines: {
    endToEndId: string;
    vendorId: string;
    vendorName: string;
    creditorIban: string;
    amount: { amount: string; currency: string };
    remittance: string | null;
    creditorReference: string | null;
    status: string;
    statusCode: string | null;
    statusReason: string | null;
    odooState: string;
    odooPaymentId: string | null;
    odooError: string | null;
    bills: {
      billId: string;
      number: string;
      amount: { amount: string; currency: string };
      dueDate: string | null;
      open: boolean;
    }[];
  }[];
  approvals: { approverId: string; roles: string[]; approvedAt: string | null }[];
  exceptions: {
    id: string;
    endToEndId: string | null;
    code: string;
    reason: string;
    billIds: string[];
    createdAt: string | null;
  }[];
}

function summary(o: OrderRow): PaymentOrderSummary {
  return {
    id: o.id,
    entityId: o.entity_id,
    bankAccountId: o.bank_account_id,
    executionDate: o.execution_date,
    dueBy: o.due_by,
    currency: o.currency,
    state: o.state,
    total: orderTotalJson(o),
    lineCount: o.line_count,
    createdBy: o.created_by,
    createdAt: isoTime(o.created_at),
    updatedAt: isoTime(o.updated_at),
    fileName: o.file_name,
  };
}

/** Lists orders, newest first, optionally in one state. */
export async function listPaymentOrders(
  deps: Pick<PaymentRunDeps, 'db'>,
  options: { state?: PaymentOrderState | undefined; limit?: number | undefined } = {},
): Promise<PaymentOrderSummary[]> {
  const rows = await listOrderRows(deps.db, {
    limit: options.limit ?? 50,
    ...(options.state === undefined ? {} : { state: options.state }),
  });
  return rows.map(summary);
}

/** One order in full; throws NOT_FOUND. */
export async function getPaymentOrder(
  deps: Pick<PaymentRunDeps, 'db'>,
  orderId: string,
): Promise<PaymentOrderDetail> {
  const o = await readOrderRow(deps.db, orderId);
  const [lines, bills] = await Promise.all([readLineRows(deps.db, orderId), readBillRows(deps.db, orderId)]);
  const approvals = await deps.db.query<{ approver_id: string; roles: string[]; approved_at: Date | string }>(
    'SELECT approver_id, roles, approved_at FROM payment_order_approvals WHERE order_id = $1 ORDER BY approved_at',
    [orderId],
  );
  const exceptions = await deps.db.query<{
    id: string;
    end_to_end_id: string | null;
    code: string;
    reason: string;
    bill_ids: string[];
    created_at: Date | string;
  }>(
    'SELECT id, end_to_end_id, code, reason, bill_ids, created_at FROM payment_exceptions WHERE order_id = $1 ORDER BY created_at, id',
    [orderId],
  );
  const file = await deps.db.query<{ file_sha256: string | null }>(
    'SELECT file_sha256 FROM payment_orders WHERE id = $1',
    [orderId],
  );
  const billsByLine = new Map<string, typeof bills>();
  for (const b of bills) {
    const list = billsByLine.get(b.end_to_end_id);
    if (list === undefined) billsByLine.set(b.end_to_end_id, [b]);
    else list.push(b);
  }
  const m = (minor: bigint) => toMoneyJson(money(BigInt(minor), o.currency));
  return {
    ...summary(o),
    messageId: o.message_id,
    painVersion: o.pain_version,
    fileSha256: file.rows[0]?.file_sha256 ?? null,
    releasedBy: o.released_by,
    releasedAt: isoTime(o.released_at),
    cancelReason: o.cancel_reason,
    lines: lines.map((l) => ({
      endToEndId: l.end_to_end_id,
      vendorId: l.vendor_id,
      vendorName: l.vendor_name,
      creditorIban: l.creditor_iban,
      amount: m(l.amount),
      remittance: l.remittance,
      creditorReference: l.creditor_reference,
      status: l.status,
      statusCode: l.status_code,
      statusReason: l.status_reason,
      odooState: l.odoo_state,
      odooPaymentId: l.odoo_payment_id === null ? null : String(l.odoo_payment_id),
      odooError: l.odoo_error,
      bills: (billsByLine.get(l.end_to_end_id) ?? []).map((b) => ({
        billId: b.bill_id,
        number: b.bill_number,
        amount: m(b.amount),
        dueDate: b.due_date,
        open: b.open,
      })),
    })),
    approvals: approvals.rows.map((a) => ({
      approverId: a.approver_id,
      roles: a.roles,
      approvedAt: isoTime(a.approved_at),
    })),
    exceptions: exceptions.rows.map((e) => ({
      id: e.id,
      endToEndId: e.end_to_end_id,
      code: e.code,
      reason: e.reason,
      billIds: e.bill_ids,
      createdAt: isoTime(e.created_at),
    })),
  };
}

/** Reading payment orders from the store and turning rows into the domain's PaymentOrder. */
import {
  money,
  NotFoundError,
  type PaymentOrder,
  type PaymentOrderState,
  toMoneyJson,
  type Iban,
  type Bic,
} from '../../domain/index.ts';
import type { Queryable } from '../../store/index.ts';

/** A payment_orders row as selected. */
export interface OrderRow {
  id: string;
  entity_id: string;
  bank_account_id: string;
  execution_date: string;
  currency: string;
  state: PaymentOrderState;
  created_by: string;
  total: bigint;
  line_count: number;
  vendor_facts: Record<string, StoredVendorFacts>;
  due_by: string;
  pain_version: string;
  message_id: string;
  file_name: string | null;
  file_sha256: string | null;
  released_by: string | null;
  released_at: Date | string | null;
  cancel_reason: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** Vendor facts as stored at proposal time (dates as ISO text, amounts in minor units). */
export interface StoredVendorFacts {
  createdAt?: string;
  bankAccountChangedAt?: string;
  recentBills: { billId: string; amount: string; billDate: string }[];
}

/** A payment_order_lines row as selected. */
export interface LineRow {
  end_to_end_id: string;
  order_id: string;
  seq: number;
  vendor_id: string;
  vendor_name: string;
  creditor_iban: string;
  creditor_bic: string | null;
  amount: bigint;
  remittance: string | null;
  creditor_reference: string | null;
  status: 'proposed' | 'pending' | 'accepted' | 'settled' | 'rejected';
  status_code: string | null;
  status_reason: string | null;
  odoo_state: 'none' | 'pending' | 'registered';
  odoo_payment_id: bigint | null;
  odoo_error: string | null;
}

/** A payment_order_bills row as selected. */
export interface BillRow {
  order_id: string;
  end_to_end_id: string;
  bill_id: string;
  bill_number: string;
  amount: bigint;
  due_date: string | null;
  open: boolean;
}

const ORDER_COLUMNS =
  'id, entity_id, bank_account_id, execution_date, currency, state, created_by, total, line_count, vendor_facts, due_by, pain_version, message_id, file_name, file_sha256, released_by, released_at, cancel_reason, created_at, updated_at';

/** Reads one order row, optionally locking it for the rest of the transaction; throws NOT_FOUND. */
export async function readOrderRow(q: Queryable, orderId: string, lock = false): Promise<OrderRow> {
  const r = await q.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM payment_orders WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [orderId],
  );
  const row = r.rows[0];
  if (row === undefined) throw new NotFoundError(`no payment order ${orderId}`);
  return row;
}

/** Lists order rows, newest first. */
export async function listOrderRows(
  q: Queryable,
  options: { state?: PaymentOrderState; limit: number },
): Promise<OrderRow[]> {
  const r = await q.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM payment_orders ${options.state === undefined ? '' : 'WHERE state = $2'} ORDER BY created_at DESC, id DESC LIMIT $1`,
    options.state === undefined ? [options.limit] : [options.limit, options.state],
  );
  return r.rows;
}

/** The transfers of an order in file order. */
export async function readLineRows(q: Queryable, orderId: string): Promise<LineRow[]> {
  return (
    await q.query<LineRow>('SELECT * FROM payment_order_lines WHERE order_id = $1 ORDER BY seq', [orderId])
  ).rows;
}

/** The bills an order pays. */
export async function readBillRows(q: Queryable, orderId: string): Promise<BillRow[]> {
  return (
    await q.query<BillRow>(
      'SELECT order_id, end_to_end_id, bill_id, bill_number, amount, due_date, open FROM payment_order_bills WHERE order_id = $1 ORDER BY bill_id',
      [orderId],
    )
  ).rows;
}

/** The order as the domain (policy, pain.001 writer) sees it. */
export function toPaymentOrder(
  order: OrderRow,
  lines: readonly LineRow[],
  bills: readonly BillRow[],
): PaymentOrder {
  // Grouped once: a 10,000-transfer order would otherwise scan every bill per transfer.
  const billIds = groupBillIds(bills);
  return {
    id: order.id,
    entityId: order.entity_id,
    debtorAccountId: order.bank_account_id,
    executionDate: order.execution_date,
    currency: order.currency,
    state: order.state,
    createdBy: order.created_by,
    lines: lines.map((l) => ({
      endToEndId: l.end_to_end_id,
      vendorId: l.vendor_id,
      vendorName: l.vendor_name,
      creditorIban: l.creditor_iban as Iban,
      ...(l.creditor_bic === null ? {} : { creditorBic: l.creditor_bic as Bic }),
      amount: money(BigInt(l.amount), order.currency),
      ...(l.remittance === null ? {} : { remittance: l.remittance }),
      ...(l.creditor_reference === null ? {} : { creditorReference: l.creditor_reference }),
      invoiceIds: billIds.get(l.end_to_end_id) ?? [],
    })),
  };
}

/** The order total as JSON money. */
export function orderTotalJson(order: Pick<OrderRow, 'total' | 'currency'>): {
  amount: string;
  currency: string;
} {
  return toMoneyJson(money(BigInt(order.total), order.currency));
}

/** A timestamp column as ISO text (PGlite and pg both give Date; text is passed through). */
export function isoTime(value: Date | string | null): string | null {
  return value === null ? null : value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

function groupBillIds(bills: readonly BillRow[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const b of bills) {
    const list = out.get(b.end_to_end_id);
    if (list === undefined) out.set(b.end_to_end_id, [b.bill_id]);
    else list.push(b.bill_id);
  }
  return out;
}

/**
 * The stored decision per bank line (`reconciliation_items`) and the one step that talks to Odoo:
 * applying a decided match there, then recording the state change, the matched event and the
 * audit record in one transaction.
 */
import { money, parseMoney, toMoneyJson, type Money } from '../../../domain/index.ts';
import type { Queryable } from '../../../store/index.ts';
import type { MatchReason, WriteOff } from '../types.ts';
import { resolveAccountTarget, type ReconciliationDeps } from './deps.ts';

/** Where a line stands: decided by the engine, waiting for a person, or decided by one. */
export type ItemStatus =
  'auto_reconciled' | 'proposed' | 'exception' | 'accepted' | 'rejected' | 'manually_matched';

/** Where Odoo stands for a decision. */
export type OdooState = 'none' | 'pending' | 'reconciled' | 'failed';

/** An allocation as stored and served: the amount as decimal text, never a float. */
export interface StoredAllocation {
  itemId: string;
  itemNumber: string;
  amount: { amount: string; currency: string };
}

/** One reconciliation item as the API and CLI show it. */
export interface ReconciliationItem {
  id: string;
  statementId: string;
  bankAccountId: string;
  entityId: string;
  status: ItemStatus;
  confidence: number;
  reason: MatchReason | null;
  rule: string | null;
  explanation: string;
  allocations: StoredAllocation[];
  writeOff: { amount: { amount: string; currency: string }; account: string; kind: WriteOff['kind'] } | null;
  candidateIds: string[];
  line: {
    bookingDate: string;
    amount: { amount: string; currency: string };
    counterpartyName: string | null;
    counterpartyIban: string | null;
    remittanceInfo: string | null;
    creditorReference: string | null;
  };
  createdAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  odoo: {
    state: OdooState;
    statementLineId: number | null;
    attempts: number;
    error: string | null;
    writeOffSkipped: boolean;
  };
}

/** A row of reconciliation_items joined with its statement line. */
export interface ItemRow {
  line_id: string;
  statement_row_id: string;
  bank_account_id: string;
  entity_id: string;
  status: ItemStatus;
  confidence: number;
  reason: MatchReason | null;
  rule: string | null;
  explanation: string;
  allocations: StoredAllocation[];
  write_off: ReconciliationItem['writeOff'];
  candidate_ids: string[];
  decided_by: string | null;
  decided_at: Date | string | null;
  correlation_id: string | null;
  odoo_state: OdooState;
  odoo_line_id: bigint | null;
  odoo_attempts: number;
  odoo_error: string | null;
  write_off_skipped: boolean;
  created_at: Date | string;
  booking_date: string;
  amount: bigint;
  currency: string;
  counterparty_name: string | null;
  counterparty_iban: string | null;
  remittance_info: string | null;
  creditor_reference: string | null;
  statement_odoo_line_id: bigint | null;
}

/** The SELECT list and FROM clause every item query shares. */
export const ITEM_SELECT = `SELECT r.line_id, r.statement_row_id, r.bank_account_id, r.entity_id, r.status, r.confidence, r.reason,
       r.rule, r.explanation, r.allocations, r.write_off, r.candidate_ids, r.decided_by, r.decided_at,
       r.correlation_id, r.odoo_state, r.odoo_line_id, r.odoo_attempts, r.odoo_error, r.write_off_skipped,
       r.created_at, l.booking_date, l.amount, l.currency, l.counterparty_name, l.counterparty_iban,
       l.remittance_info, l.creditor_reference, l.odoo_line_id AS statement_odoo_line_id
  FROM reconciliation_items r JOIN statement_lines l ON l.id = r.line_id`;

const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());

/** Maps a row to what the API serves. */
export function toItem(row: ItemRow): ReconciliationItem {
  return {
    id: row.line_id,
    statementId: row.statement_row_id,
    bankAccountId: row.bank_account_id,
    entityId: row.entity_id,
    status: row.status,
    confidence: Number(row.confidence),
    reason: row.reason,
    rule: row.rule,
    explanation: row.explanation,
    allocations: row.allocations,
    writeOff: row.write_off,
    candidateIds: row.candidate_ids,
    line: {
      bookingDate: row.booking_date,
      amount: toMoneyJson(money(row.amount, row.currency)),
      counterpartyName: row.counterparty_name,
      counterpartyIban: row.counterparty_iban,
      remittanceInfo: row.remittance_info,
      creditorReference: row.creditor_reference,
    },
    createdAt: iso(row.created_at),
    decidedBy: row.decided_by,
    decidedAt: row.decided_at === null ? null : iso(row.decided_at),
    odoo: {
      state: row.odoo_state,
      statementLineId: row.odoo_line_id === null ? null : Number(row.odoo_line_id),
      attempts: row.odoo_attempts,
      error: row.odoo_error,
      writeOffSkipped: row.write_off_skipped,
    },
  };
}

/** Reads one item with its line, or undefined. */
export async function readItemRow(q: Queryable, lineId: string, lock = false): Promise<ItemRow | undefined> {
  const r = await q.query<ItemRow>(`${ITEM_SELECT} WHERE r.line_id = $1${lock ? ' FOR UPDATE OF r' : ''}`, [
    lineId,
  ]);
  return r.rows[0];
}

/** Reads one item as the API shows it. */
export async function getReconciliationItem(
  q: Queryable,
  lineId: string,
): Promise<ReconciliationItem | undefined> {
  const row = await readItemRow(q, lineId);
  return row === undefined ? undefined : toItem(row);
}

function allocationMoney(a: StoredAllocation): Money {
  return parseMoney(a.amount.amount, a.amount.currency);
}

/** Kept equal to `PAYMENT_LINK_RULE` of reconcile-statement.ts (which imports this file). */
const PAYMENT_LINK_RULE_NAME = 'payment-end-to-end-id';

/** How often a line's reconciliation was undone: numbers the events of its later reconciliations. */
export async function undoRound(q: Queryable, lineId: string): Promise<number> {
  const r = await q.query<{ n: bigint | number | string }>(
    // The audit trail, not the event log: events may be pruned after their retention, audit records stay.
    `SELECT count(*) AS n FROM kontor_audit
      WHERE action = 'reconciliation.undone' AND resource_type = 'reconciliation-item' AND resource_id = $1`,
    [lineId],
  );
  return Number(r.rows[0]?.n ?? 0);
}

/** What applying a decision in Odoo ended in. */
export type ApplyOutcome = 'reconciled' | 'already_reconciled' | 'failed' | 'skipped';

/**
 * Reconciles a decided item in Odoo (outside any transaction: Odoo may be slow), then records the
 * result; the matched event and the audit record commit together with the state change, and only
 * the run whose update wins publishes, so a replay or a concurrent run cannot publish twice.
 */
export async function applyInOdoo(deps: ReconciliationDeps, lineId: string): Promise<ApplyOutcome> {
  const row = await readItemRow(deps.db, lineId);
  if (row === undefined || (row.odoo_state !== 'pending' && row.odoo_state !== 'failed')) return 'skipped';
  const target = resolveAccountTarget(deps, row.bank_account_id);
  const statementLineId = row.odoo_line_id ?? row.statement_odoo_line_id;
  let outcome: Awaited<ReturnType<ReconciliationDeps['ledger']['reconcileLine']>>;
  try {
    if (statementLineId === null) throw new Error(`line ${lineId} has no Odoo statement line id`);
    outcome = await deps.ledger.reconcileLine({
      companyId: target?.companyId,
      statementLineId: Number(statementLineId),
      allocations: row.allocations.map((a) => ({ itemId: a.itemId, amount: allocationMoney(a) })),
      ...(row.write_off === null
        ? {}
        : {
            writeOff: {
              amount: parseMoney(row.write_off.amount.amount, row.write_off.amount.currency),
              account: row.write_off.account,
            },
          }),
    });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await deps.db.query(
      `UPDATE reconciliation_items
          SET odoo_state = 'failed', odoo_attempts = odoo_attempts + 1, odoo_error = $2, updated_at = $3
        WHERE line_id = $1 AND odoo_state IN ('pending', 'failed')`,
      [lineId, message.slice(0, 1000), deps.clock.now()],
    );
    return 'failed';
  }
  const committed = await deps.db.transaction(async (tx) => {
    const updated = await tx.query(
      `UPDATE reconciliation_items
          SET odoo_state = 'reconciled', odoo_line_id = $2, odoo_error = NULL, write_off_skipped = $3, updated_at = $4
        WHERE line_id = $1 AND odoo_state IN ('pending', 'failed')`,
      [lineId, statementLineId, outcome.writeOffSkipped, deps.clock.now()],
    );
    if (updated.rowCount === 0) return false;
    const correlationId = row.correlation_id ?? undefined;
    const round = await undoRound(tx, lineId);
    // A payment link names the bills the payment settled; everything else names its invoices.
    const invoiceIds =
      row.rule === PAYMENT_LINK_RULE_NAME && row.candidate_ids.length > 0
        ? row.candidate_ids
        : row.allocations.map((a) => a.itemId);
    await deps.publish(tx, {
      type: 'kontor.reconciliation.matched.v1',
      // Deterministic: one matched event per line and reconciliation (a line undone and matched
      // again gets a new one), whoever reconciles it.
      id: round === 0 ? `matched-${lineId}` : `matched-${lineId}-${round}`,
      subject: row.bank_account_id,
      ...(correlationId === undefined ? {} : { correlationId }),
      data: {
        statementLineId: lineId,
        bankAccountId: row.bank_account_id,
        invoiceIds,
        amount: toMoneyJson(money(row.amount, row.currency)),
        rule: row.rule ?? 'manual',
        confidence: Number(row.confidence),
      },
    });
    await deps.audit(tx, {
      actor: row.decided_by ?? 'system',
      action: 'reconciliation.reconciled',
      resourceType: 'reconciliation-item',
      resourceId: lineId,
      ...(correlationId === undefined ? {} : { correlationId }),
      details: {
        status: row.status,
        odooStatementLineId: Number(statementLineId),
        invoiceIds: row.allocations.map((a) => a.itemId),
        odooOutcome: outcome.status,
        writeOffSkipped: outcome.writeOffSkipped,
      },
    });
    return true;
  });
  if (!committed) return 'skipped';
  return outcome.status;
}

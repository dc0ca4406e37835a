/**
 * Reconciles one posted bank statement: its lines against the Odoo company's open items through
 * the engine, each decision stored once (a replay finds it and does nothing), auto matches applied
 * in Odoo, proposals and exceptions left for a person.
 */
import {
  money,
  NotFoundError,
  parseMoney,
  toMoneyJson,
  type Iban,
  type Money,
} from '../../../domain/index.ts';
import { matchLines } from '../match-lines.ts';
import type { BankLine, MatchProposal, OpenItem } from '../types.ts';
import { resolveAccountTarget, type ReconciliationDeps } from './deps.ts';
import { applyInOdoo, type StoredAllocation } from './items.ts';

/** What one run did. */
export interface ReconcileStatementResult {
  statementId: string;
  /** Lines decided in this run, by decision. */
  autoMatched: number;
  proposed: number;
  exceptions: number;
  /** Lines decided before (a replay finds them all here). */
  alreadyDecided: number;
  /** Odoo outcomes of the decisions applied in this run (including earlier failed ones retried). */
  reconciledInOdoo: number;
  failedInOdoo: number;
}

interface LineRow {
  id: string;
  bank_account_id: string;
  booking_date: string;
  value_date: string | null;
  amount: bigint;
  currency: string;
  counterparty_name: string | null;
  counterparty_iban: string | null;
  remittance_info: string | null;
  creditor_reference: string | null;
  end_to_end_id: string | null;
  line: { instructedAmount?: { amount: string; currency: string }; exchangeRate?: string };
  decided: boolean;
}

function toBankLine(row: LineRow, entityId: string): BankLine {
  const counterparty =
    row.counterparty_name === null && row.counterparty_iban === null
      ? undefined
      : {
          ...(row.counterparty_name === null ? {} : { name: row.counterparty_name }),
          // Stored IBANs were validated when the statement was imported.
          ...(row.counterparty_iban === null ? {} : { iban: row.counterparty_iban as Iban }),
        };
  const instructed = row.line.instructedAmount;
  return {
    id: row.id,
    accountId: row.bank_account_id,
    entityId,
    bookingDate: row.booking_date,
    ...(row.value_date === null ? {} : { valueDate: row.value_date }),
    amount: money(row.amount, row.currency),
    ...(counterparty === undefined ? {} : { counterparty }),
    ...(row.remittance_info === null ? {} : { remittanceInfo: row.remittance_info }),
    ...(row.creditor_reference === null ? {} : { creditorReference: row.creditor_reference }),
    ...(row.end_to_end_id === null ? {} : { endToEndId: row.end_to_end_id }),
    ...(instructed === undefined
      ? {}
      : { instructedAmount: parseMoney(instructed.amount, instructed.currency) }),
    ...(row.line.exchangeRate === undefined ? {} : { exchangeRate: row.line.exchangeRate }),
  };
}

function storedAllocations(p: MatchProposal): StoredAllocation[] {
  return p.allocations.map((a) => ({
    itemId: a.itemId,
    itemNumber: a.itemNumber,
    amount: toMoneyJson(a.amount),
  }));
}

function statusOf(p: MatchProposal): 'auto_reconciled' | 'proposed' | 'exception' {
  if (p.status === 'auto') return 'auto_reconciled';
  // A proposal without anything to accept is, for a person, an exception.
  return p.status === 'proposal' && p.allocations.length > 0 ? 'proposed' : 'exception';
}

/** Reconciles the posted lines of one statement (Kontor's bank_statements row id); safe to run again. */
export async function reconcileStatement(
  deps: ReconciliationDeps,
  statementRowId: string,
): Promise<ReconcileStatementResult> {
  const statement = (
    await deps.db.query<{ id: string; bank_account_id: string; correlation_id: string }>(
      `SELECT s.id, s.bank_account_id, i.correlation_id
         FROM bank_statements s JOIN statement_imports i ON i.id = s.import_id WHERE s.id = $1`,
      [statementRowId],
    )
  ).rows[0];
  if (statement === undefined) throw new NotFoundError(`no bank statement ${statementRowId}`);
  const result: ReconcileStatementResult = {
    statementId: statementRowId,
    autoMatched: 0,
    proposed: 0,
    exceptions: 0,
    alreadyDecided: 0,
    reconciledInOdoo: 0,
    failedInOdoo: 0,
  };
  const target = resolveAccountTarget(deps, statement.bank_account_id);
  if (target === undefined) return result;

  const rows = (
    await deps.db.query<LineRow>(
      `SELECT l.id, l.bank_account_id, l.booking_date, l.value_date, l.amount, l.currency, l.counterparty_name,
              l.counterparty_iban, l.remittance_info, l.creditor_reference, l.end_to_end_id, l.line,
              EXISTS (SELECT 1 FROM reconciliation_items r WHERE r.line_id = l.id) AS decided
         FROM statement_lines l
        WHERE l.statement_row_id = $1 AND l.odoo_status = 'posted'
        ORDER BY l.seq_in_statement`,
      [statementRowId],
    )
  ).rows;
  const open = rows.filter((r) => !r.decided);
  result.alreadyDecided = rows.length - open.length;

  const toApply: string[] = [];
  if (open.length > 0) {
    const [items, partnerByIban] = await Promise.all([
      deps.ledger.listOpenItems(target.companyId),
      deps.ledger.listPartnersByIban(target.companyId),
    ]);
    const openItems: OpenItem[] = items.map((i) => ({
      id: i.id,
      entityId: target.entityId,
      number: i.number,
      kind: i.kind,
      partnerId: i.partnerId,
      amount: i.amount,
      residual: i.residual,
      dueDate: i.dueDate,
      ...(i.paymentReference === undefined ? {} : { paymentReference: i.paymentReference }),
    }));
    const proposals = matchLines({
      lines: open.map((r) => toBankLine(r, target.entityId)),
      openItems,
      rules: deps.rules,
      context: { partnerByIban },
    });
    const now = deps.clock.now();
    await deps.db.transaction(async (tx) => {
      for (const p of proposals) {
        const status = statusOf(p);
        const inserted = await tx.query(
          `INSERT INTO reconciliation_items
             (line_id, statement_row_id, bank_account_id, entity_id, status, confidence, reason, rule, explanation,
              allocations, write_off, candidate_ids, correlation_id, odoo_state, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12::jsonb, $13, $14, $15, $15)
           ON CONFLICT (line_id) DO NOTHING`,
          [
            p.lineId,
            statementRowId,
            statement.bank_account_id,
            target.entityId,
            status,
            p.confidence,
            p.reason ?? null,
            p.rule ?? null,
            p.explanation,
            JSON.stringify(storedAllocations(p)),
            p.writeOff === undefined
              ? null
              : JSON.stringify({
                  amount: toMoneyJson(p.writeOff.amount),
                  account: p.writeOff.account,
                  kind: p.writeOff.kind,
                }),
            JSON.stringify(p.candidateIds ?? []),
            statement.correlation_id,
            status === 'auto_reconciled' ? 'pending' : 'none',
            now,
          ],
        );
        // Another run decided this line between our read and this insert: it owns the line.
        if (inserted.rowCount === 0) {
          result.alreadyDecided++;
          continue;
        }
        if (status === 'auto_reconciled') {
          result.autoMatched++;
          toApply.push(p.lineId);
        } else if (status === 'proposed') result.proposed++;
        else result.exceptions++;
      }
      if (proposals.length > 0)
        await deps.audit(tx, {
          actor: 'system',
          action: 'reconciliation.statement_matched',
          resourceType: 'bank-statement',
          resourceId: statementRowId,
          correlationId: statement.correlation_id,
          details: {
            autoMatched: result.autoMatched,
            proposed: result.proposed,
            exceptions: result.exceptions,
          },
        });
    });
  }

  // Decisions of this statement whose Odoo step is still to do (a crash or an Odoo outage before).
  const retry = await deps.db.query<{ line_id: string }>(
    `SELECT line_id FROM reconciliation_items
      WHERE statement_row_id = $1 AND odoo_state IN ('pending', 'failed') AND odoo_attempts < $2 AND NOT (line_id = ANY($3))`,
    [statementRowId, deps.maxOdooAttempts ?? 5, toApply],
  );
  for (const lineId of [...toApply, ...retry.rows.map((r) => r.line_id)]) {
    const outcome = await applyInOdoo(deps, lineId);
    if (outcome === 'reconciled' || outcome === 'already_reconciled') result.reconciledInOdoo++;
    else if (outcome === 'failed') result.failedInOdoo++;
  }
  return result;
}

/** Reconciles every statement of a completed import that still has undecided lines or Odoo work left. */
export async function reconcilePending(deps: ReconciliationDeps): Promise<{
  statements: number;
  autoMatched: number;
  proposed: number;
  exceptions: number;
  failedInOdoo: number;
}> {
  const statements = await deps.db.query<{ id: string }>(
    `SELECT s.id FROM bank_statements s JOIN statement_imports i ON i.id = s.import_id
      WHERE i.status <> 'received'
        AND (EXISTS (SELECT 1 FROM statement_lines l
                      WHERE l.statement_row_id = s.id AND l.odoo_status = 'posted'
                        AND NOT EXISTS (SELECT 1 FROM reconciliation_items r WHERE r.line_id = l.id))
             OR EXISTS (SELECT 1 FROM reconciliation_items r
                         WHERE r.statement_row_id = s.id AND r.odoo_state IN ('pending', 'failed') AND r.odoo_attempts < $1))
      ORDER BY s.created_at, s.id`,
    [deps.maxOdooAttempts ?? 5],
  );
  const total = { statements: 0, autoMatched: 0, proposed: 0, exceptions: 0, failedInOdoo: 0 };
  for (const s of statements.rows) {
    const r = await reconcileStatement(deps, s.id);
    total.statements++;
    total.autoMatched += r.autoMatched;
    total.proposed += r.proposed;
    total.exceptions += r.exceptions;
    total.failedInOdoo += r.failedInOdoo;
  }
  return total;
}

/** Signed residual of an item in the direction of money on the bank account (exported for decisions). */
export function signedResidual(kind: OpenItem['kind'], residual: Money): bigint {
  const magnitude = residual.amount < 0n ? -residual.amount : residual.amount;
  return kind === 'customer_invoice' || kind === 'vendor_credit_note' ? magnitude : -magnitude;
}

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
import type { BankLine, MatchContext, MatchProposal, OpenItem } from '../types.ts';
import { PAYMENT_ITEM_PREFIX, resolveAccountTarget, type ReconciliationDeps } from './deps.ts';
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

export interface LineRow {
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

export function toBankLine(row: LineRow, entityId: string): BankLine {
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

/** One line's decision as stored: the engine's proposal, or a link to a registered payment. */
export interface Decision {
  lineId: string;
  status: 'auto_reconciled' | 'proposed' | 'exception';
  confidence: number;
  reason: string | null;
  rule: string | null;
  explanation: string;
  allocations: StoredAllocation[];
  writeOff: { amount: { amount: string; currency: string }; account: string; kind: string } | null;
  candidateIds: string[];
}

/** The stored form of an engine proposal. */
export function fromProposal(p: MatchProposal): Decision {
  return {
    lineId: p.lineId,
    status: statusOf(p),
    confidence: p.confidence,
    reason: p.reason ?? null,
    rule: p.rule ?? null,
    explanation: p.explanation,
    allocations: storedAllocations(p),
    writeOff:
      p.writeOff === undefined
        ? null
        : { amount: toMoneyJson(p.writeOff.amount), account: p.writeOff.account, kind: p.writeOff.kind },
    candidateIds: [...(p.candidateIds ?? [])],
  };
}

/** The rule name of a line settled with a payment the payment run registered. */
export const PAYMENT_LINK_RULE = 'payment-end-to-end-id' as const;

/**
 * Debit lines whose EndToEndId names a payment Kontor registered (payment run, pain.002), for
 * exactly the paid amount and not yet matched with a bank line: settled with that payment.
 */
export async function linkRegisteredPayments(
  deps: ReconciliationDeps,
  companyId: number | undefined,
  rows: readonly Pick<LineRow, 'id' | 'amount' | 'currency' | 'end_to_end_id'>[],
): Promise<Decision[]> {
  const candidates = rows.filter(
    (r) =>
      r.amount < 0n &&
      r.end_to_end_id !== null &&
      r.end_to_end_id !== '' &&
      r.end_to_end_id !== 'NOTPROVIDED',
  );
  if (candidates.length === 0 || deps.ledger.findRegisteredPayments === undefined) return [];
  const payments = await deps.ledger.findRegisteredPayments(companyId, [
    ...new Set(candidates.map((r) => r.end_to_end_id!)),
  ]);
  const taken = new Set<number>();
  const decisions: Decision[] = [];
  for (const r of candidates) {
    const p = payments.get(r.end_to_end_id!);
    if (
      p === undefined ||
      !p.outbound ||
      p.matched ||
      taken.has(p.paymentId) ||
      p.amount.currency !== r.currency ||
      p.amount.amount !== -r.amount
    )
      continue;
    taken.add(p.paymentId);
    const amount = toMoneyJson(money(r.amount, r.currency));
    decisions.push({
      lineId: r.id,
      status: 'auto_reconciled',
      confidence: 1,
      reason: null,
      rule: PAYMENT_LINK_RULE,
      explanation: `EndToEndId ${r.end_to_end_id!} matched payment ${p.name} (${amount.amount} ${amount.currency}${
        p.billIds.length > 0 ? `, bill${p.billIds.length > 1 ? 's' : ''} ${p.billIds.join(', ')}` : ''
      })`,
      allocations: [{ itemId: `${PAYMENT_ITEM_PREFIX}${p.paymentId}`, itemNumber: p.name, amount }],
      writeOff: null,
      candidateIds: p.billIds,
    });
  }
  return decisions;
}

/**
 * The decisions for a group of open lines of one company: debit lines paying a registered payment
 * first, then the matching rules over the rest.
 */
export async function decideLines(
  deps: ReconciliationDeps,
  target: { companyId: number | undefined; entityId: string },
  rows: readonly LineRow[],
  openItems: readonly OpenItem[],
  partnerByIban: MatchContext['partnerByIban'],
): Promise<Decision[]> {
  const linked = await linkRegisteredPayments(deps, target.companyId, rows);
  return [
    ...linked,
    ...matchLines({
      lines: rows
        .filter((r) => !linked.some((d) => d.lineId === r.id))
        .map((r) => toBankLine(r, target.entityId)),
      openItems,
      rules: deps.rules,
      context: { partnerByIban },
    }).map(fromProposal),
  ];
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
    // Debit lines paying what the payment run registered are settled with that payment, not an invoice.
    const proposals = await decideLines(deps, target, open, openItems, partnerByIban);
    const now = deps.clock.now();
    await deps.db.transaction(async (tx) => {
      for (const p of proposals) {
        const status = p.status;
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
            JSON.stringify(p.allocations),
            p.writeOff === null ? null : JSON.stringify(p.writeOff),
            JSON.stringify(p.candidateIds),
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

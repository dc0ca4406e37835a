/**
 * Re-matching: lines the engine left as exceptions are matched again when the open items change
 * (invoices posted in Odoo after the statement arrived, a payment registered by the payment run).
 * Only the engine's own exceptions are touched: a line a person decided (accepted, rejected,
 * matched, undone) keeps that decision. Work is bounded: a pass runs only when a company's open
 * items differ from the last pass, and takes at most `rematchBatch` lines, least recently tried
 * first, so a large backlog is worked through over several passes.
 */
import { money, parseMoney, type LedgerOpenItem } from '../../../domain/index.ts';
import type { OpenItem } from '../types.ts';
import { resolveAccountTarget, type ReconciliationDeps } from './deps.ts';
import { applyInOdoo } from './items.ts';
import { decideLines, type LineRow } from './reconcile-statement.ts';

/** What one re-matching pass did. */
export interface RematchResult {
  /** Exception lines looked at again. */
  examined: number;
  autoMatched: number;
  proposed: number;
  /** Companies skipped because their open items had not changed since the last pass. */
  unchanged: number;
  reconciledInOdoo: number;
  failedInOdoo: number;
}

/** Fingerprints of the open items each company had at its last pass (per deps, i.e. per process). */
const lastSeen = new WeakMap<ReconciliationDeps, Map<string, string>>();

function fingerprint(items: readonly LedgerOpenItem[]): string {
  return items
    .map((i) => `${i.id}:${i.residual.amount}:${i.residual.currency}`)
    .sort()
    .join('\n');
}

/** Re-runs the engine over the engine's open exceptions; see the file comment for what it leaves alone. */
export async function rematchExceptions(
  deps: ReconciliationDeps,
  options: { force?: boolean } = {},
): Promise<RematchResult> {
  const result: RematchResult = {
    examined: 0,
    autoMatched: 0,
    proposed: 0,
    unchanged: 0,
    reconciledInOdoo: 0,
    failedInOdoo: 0,
  };
  const limit = deps.rematchBatch ?? 500;
  const seen = lastSeen.get(deps) ?? new Map<string, string>();
  lastSeen.set(deps, seen);
  // One Odoo company per entity: group the accounts that have engine exceptions.
  const accounts = await deps.db.query<{ bank_account_id: string }>(
    `SELECT DISTINCT bank_account_id FROM reconciliation_items WHERE status = 'exception' AND decided_by IS NULL`,
  );
  const byCompany = new Map<
    string,
    { companyId: number | undefined; entityId: string; accountIds: string[] }
  >();
  for (const { bank_account_id: accountId } of accounts.rows) {
    const target = resolveAccountTarget(deps, accountId);
    if (target === undefined) continue;
    const key = `${target.entityId}`;
    const group = byCompany.get(key) ?? {
      companyId: target.companyId,
      entityId: target.entityId,
      accountIds: [],
    };
    group.accountIds.push(accountId);
    byCompany.set(key, group);
  }
  const toApply: string[] = [];
  for (const [key, group] of byCompany) {
    const items = await deps.ledger.listOpenItems(group.companyId);
    const print = fingerprint(items);
    if (options.force !== true && seen.get(key) === print) {
      result.unchanged++;
      continue;
    }
    const rows = (
      await deps.db.query<LineRow & { statement_row_id: string }>(
        `SELECT l.id, l.bank_account_id, l.booking_date, l.value_date, l.amount, l.currency, l.counterparty_name,
                l.counterparty_iban, l.remittance_info, l.creditor_reference, l.end_to_end_id, l.line,
                true AS decided, r.statement_row_id
           FROM reconciliation_items r JOIN statement_lines l ON l.id = r.line_id
          WHERE r.status = 'exception' AND r.decided_by IS NULL AND r.bank_account_id = ANY($1)
          ORDER BY r.updated_at, r.line_id
          LIMIT $2`,
        [group.accountIds, limit],
      )
    ).rows;
    // A backlog larger than one batch is not done: the next pass must look again even if nothing changes.
    if (rows.length < limit) seen.set(key, print);
    else seen.delete(key);
    if (rows.length === 0) continue;
    result.examined += rows.length;

    // What decisions not yet in Odoo hold (queue proposals, reconciliations still to do) is not free.
    const held = await deps.db.query<{
      allocations: { itemId: string; amount: { amount: string; currency: string } }[];
    }>(
      `SELECT allocations FROM reconciliation_items
        WHERE bank_account_id = ANY($1)
          AND (status IN ('proposed') OR (status IN ('auto_reconciled', 'accepted', 'manually_matched') AND odoo_state IN ('pending', 'failed')))`,
      [group.accountIds],
    );
    const heldMinor = new Map<string, bigint>();
    for (const h of held.rows)
      for (const a of h.allocations) {
        const minor = parseMoney(a.amount.amount, a.amount.currency).amount;
        heldMinor.set(a.itemId, (heldMinor.get(a.itemId) ?? 0n) + (minor < 0n ? -minor : minor));
      }
    const openItems: OpenItem[] = items.flatMap((i) => {
      const left = i.residual.amount - (heldMinor.get(i.id) ?? 0n);
      if (left <= 0n) return [];
      return [
        {
          id: i.id,
          entityId: group.entityId,
          number: i.number,
          kind: i.kind,
          partnerId: i.partnerId,
          amount: i.amount,
          residual: money(left, i.residual.currency),
          dueDate: i.dueDate,
          ...(i.paymentReference === undefined ? {} : { paymentReference: i.paymentReference }),
        },
      ];
    });
    const partnerByIban = await deps.ledger.listPartnersByIban(group.companyId);
    const decisions = await decideLines(deps, group, rows, openItems, partnerByIban);
    const now = deps.clock.now();
    await deps.db.transaction(async (tx) => {
      for (const d of decisions) {
        if (d.status === 'exception' || d.allocations.length === 0) {
          // Still nothing: tried now, so it goes to the back of the rotation.
          await tx.query(
            `UPDATE reconciliation_items SET updated_at = $2 WHERE line_id = $1 AND status = 'exception' AND decided_by IS NULL`,
            [d.lineId, now],
          );
          continue;
        }
        // Guarded: a person who decided the line meanwhile wins.
        const updated = await tx.query(
          `UPDATE reconciliation_items
              SET status = $2, confidence = $3, reason = $4, rule = $5, explanation = $6, allocations = $7::jsonb,
                  write_off = $8::jsonb, candidate_ids = $9::jsonb, odoo_state = $10, odoo_attempts = 0,
                  odoo_error = NULL, updated_at = $11
            WHERE line_id = $1 AND status = 'exception' AND decided_by IS NULL`,
          [
            d.lineId,
            d.status,
            d.confidence,
            d.reason,
            d.rule,
            `re-matched after new open items: ${d.explanation}`,
            JSON.stringify(d.allocations),
            d.writeOff === null ? null : JSON.stringify(d.writeOff),
            JSON.stringify(d.candidateIds),
            d.status === 'auto_reconciled' ? 'pending' : 'none',
            now,
          ],
        );
        if (updated.rowCount === 0) continue;
        await deps.audit(tx, {
          actor: 'system',
          action: 'reconciliation.rematched',
          resourceType: 'reconciliation-item',
          resourceId: d.lineId,
          before: { status: 'exception' },
          after: { status: d.status, allocations: d.allocations },
          details: { rule: d.rule, confidence: d.confidence, itemIds: d.allocations.map((a) => a.itemId) },
        });
        if (d.status === 'auto_reconciled') {
          result.autoMatched++;
          toApply.push(d.lineId);
        } else result.proposed++;
      }
    });
  }
  for (const lineId of toApply) {
    const outcome = await applyInOdoo(deps, lineId);
    if (outcome === 'reconciled' || outcome === 'already_reconciled') result.reconciledInOdoo++;
    else if (outcome === 'failed') result.failedInOdoo++;
  }
  return result;
}

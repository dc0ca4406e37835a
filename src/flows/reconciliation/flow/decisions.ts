/**
 * A person's decisions on a line the engine left open: accept the proposal, reject it, or match
 * the line by hand with chosen open items. Each decision is audited with the identity that made it
 * and its correlation id, in the transaction that changes the state; Odoo is called afterwards.
 */
import {
  ConflictError,
  ErrorCodes,
  formatMoney,
  money,
  NotFoundError,
  toMoneyJson,
  ValidationError,
  type LedgerOpenItem,
} from '../../../domain/index.ts';
import { resolveToleranceMinor } from '../rules.ts';
import { resolveAccountTarget, type ReconciliationDeps } from './deps.ts';
import {
  applyInOdoo,
  getReconciliationItem,
  readItemRow,
  type ItemStatus,
  type ReconciliationItem,
  type StoredAllocation,
  undoRound,
} from './items.ts';
import { signedResidual } from './reconcile-statement.ts';

/** Who decides, and the request that carried the decision. */
export interface DecisionActor {
  actor: string;
  correlationId?: string | undefined;
}

const abs = (v: bigint): bigint => (v < 0n ? -v : v);

async function mustExist(deps: ReconciliationDeps, id: string): Promise<ReconciliationItem> {
  const item = await getReconciliationItem(deps.db, id);
  if (item === undefined) throw new NotFoundError(`no reconciliation item ${id}`);
  return item;
}

/** Moves an item from one of `from` to `to` with the audit record, or explains why it cannot. */
async function decide(
  deps: ReconciliationDeps,
  id: string,
  from: readonly ItemStatus[],
  to: ItemStatus,
  by: DecisionActor,
  changes: { allocations?: StoredAllocation[]; writeOff?: unknown; explanation?: string; odoo: boolean },
  details: Record<string, unknown> = {},
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const row = await readItemRow(tx, id, true);
    if (row === undefined) throw new NotFoundError(`no reconciliation item ${id}`);
    if (!from.includes(row.status))
      throw new ConflictError(
        `reconciliation item ${id} is ${row.status}; only ${from.join(' or ')} items can be ${to}`,
      );
    await tx.query(
      `UPDATE reconciliation_items
          SET status = $2, decided_by = $3, decided_at = $4, correlation_id = COALESCE($5, correlation_id),
              allocations = COALESCE($6::jsonb, allocations), write_off = CASE WHEN $7::boolean THEN $8::jsonb ELSE write_off END,
              explanation = COALESCE($9, explanation), rule = CASE WHEN $10::boolean THEN 'manual' ELSE rule END,
              confidence = CASE WHEN $10::boolean THEN 1 ELSE confidence END,
              odoo_state = CASE WHEN $11::boolean THEN 'pending' ELSE odoo_state END,
              odoo_attempts = CASE WHEN $11::boolean THEN 0 ELSE odoo_attempts END, updated_at = $4
        WHERE line_id = $1`,
      [
        id,
        to,
        by.actor,
        deps.clock.now(),
        by.correlationId ?? null,
        changes.allocations === undefined ? null : JSON.stringify(changes.allocations),
        changes.writeOff !== undefined,
        changes.writeOff === undefined || changes.writeOff === null ? null : JSON.stringify(changes.writeOff),
        changes.explanation ?? null,
        to === 'manually_matched',
        changes.odoo,
      ],
    );
    await deps.audit(tx, {
      actor: by.actor,
      action: `reconciliation.${to === 'manually_matched' ? 'matched_manually' : to}`,
      resourceType: 'reconciliation-item',
      resourceId: id,
      before: { status: row.status, allocations: row.allocations },
      after: { status: to, allocations: changes.allocations ?? row.allocations },
      ...(by.correlationId === undefined ? {} : { correlationId: by.correlationId }),
      details: { from: row.status, to, bankAccountId: row.bank_account_id, ...details },
    });
  });
}

/** Accepts the engine's proposal for a line and reconciles it in Odoo. */
export async function acceptProposal(
  deps: ReconciliationDeps,
  id: string,
  by: DecisionActor,
): Promise<ReconciliationItem> {
  const item = await mustExist(deps, id);
  if (item.status === 'proposed' && item.allocations.length === 0)
    throw new ConflictError(`reconciliation item ${id} has no proposal to accept; match it instead`);
  await decide(
    deps,
    id,
    ['proposed'],
    'accepted',
    by,
    { odoo: true },
    {
      invoiceIds: item.allocations.map((a) => a.itemId),
    },
  );
  await applyInOdoo(deps, id);
  return mustExist(deps, id);
}

/** Rejects the engine's proposal (or closes an exception); the line stays unreconciled in Odoo. */
export async function rejectProposal(
  deps: ReconciliationDeps,
  id: string,
  by: DecisionActor & { note?: string | undefined },
): Promise<ReconciliationItem> {
  await decide(
    deps,
    id,
    ['proposed', 'exception'],
    'rejected',
    by,
    { odoo: false },
    {
      ...(by.note === undefined ? {} : { note: by.note.slice(0, 500) }),
    },
  );
  return mustExist(deps, id);
}

/**
 * Splits a line over the chosen items: the items' residuals must add up to the line (within the
 * bank-charges tolerance, the difference becoming a write-off), or the line pays the items in the
 * given order with only the last one paid in part.
 */
export function allocateManually(
  line: { amount: bigint; currency: string },
  items: readonly LedgerOpenItem[],
  toleranceMinor: bigint,
  writeOffAccount: string,
): {
  allocations: StoredAllocation[];
  writeOff: { amount: { amount: string; currency: string }; account: string; kind: 'bank-charges' } | null;
} {
  const issue = (message: string) =>
    new ValidationError(message, [{ path: 'itemIds', message }], { code: ErrorCodes.VALIDATION_FAILED });
  if (items.length === 0) throw issue('choose at least one open item');
  for (const i of items)
    if (i.residual.currency !== line.currency)
      throw issue(`open item ${i.number} is in ${i.residual.currency}, the line in ${line.currency}`);
  const signed = items.map((i) => signedResidual(i.kind, i.residual));
  const total = signed.reduce((a, b) => a + b, 0n);
  const diff = line.amount - total;
  const full = (i: LedgerOpenItem, s: bigint): StoredAllocation => ({
    itemId: i.id,
    itemNumber: i.number,
    amount: toMoneyJson(money(s, line.currency)),
  });
  if (abs(diff) <= toleranceMinor) {
    return {
      allocations: items.map((i, k) => full(i, signed[k]!)),
      writeOff:
        diff === 0n
          ? null
          : {
              amount: toMoneyJson(money(diff, line.currency)),
              account: writeOffAccount,
              kind: 'bank-charges',
            },
    };
  }
  const sameDirection = signed.every((s) => s !== 0n && s > 0n === line.amount > 0n);
  if (sameDirection && abs(line.amount) < abs(total)) {
    // A partial payment: every item but the last is paid in full, the last one gets the rest.
    const beforeLast = signed.slice(0, -1).reduce((a, b) => a + b, 0n);
    const rest = line.amount - beforeLast;
    if (rest !== 0n && rest > 0n === line.amount > 0n) {
      return {
        allocations: items.map((i, k) => (k < items.length - 1 ? full(i, signed[k]!) : full(i, rest))),
        writeOff: null,
      };
    }
  }
  throw issue(
    `the chosen items add up to ${formatMoney(money(total, line.currency))} ${line.currency}, the line is ${formatMoney(
      money(line.amount, line.currency),
    )} ${line.currency}: they must add up (within ${formatMoney(money(toleranceMinor, line.currency))}), or only the last item may be paid in part`,
  );
}

/** Matches a line by hand with the chosen open items (their Odoo ids) and reconciles it in Odoo. */
export async function matchManually(
  deps: ReconciliationDeps,
  id: string,
  input: DecisionActor & { itemIds: readonly string[] },
): Promise<ReconciliationItem> {
  const item = await mustExist(deps, id);
  const movable: ItemStatus[] = ['proposed', 'exception', 'rejected'];
  if (!movable.includes(item.status))
    throw new ConflictError(
      `reconciliation item ${id} is ${item.status}; only ${movable.join(', ')} items can be matched`,
    );
  if (new Set(input.itemIds).size !== input.itemIds.length)
    throw new ValidationError('an open item is chosen twice', [{ path: 'itemIds', message: 'duplicate id' }]);
  const target = resolveAccountTarget(deps, item.bankAccountId);
  const open = await deps.ledger.listOpenItems(target?.companyId);
  const chosen = input.itemIds.map((itemId) => {
    const found = open.find((o) => o.id === itemId);
    if (found === undefined)
      throw new ValidationError(`open item ${itemId} is not open in the entity's Odoo company`, [
        { path: 'itemIds', message: `unknown or fully paid item ${itemId}` },
      ]);
    return found;
  });
  const row = (await readItemRow(deps.db, id))!;
  const { allocations, writeOff } = allocateManually(
    { amount: row.amount, currency: row.currency },
    chosen,
    resolveToleranceMinor(deps.rules, row.currency),
    deps.rules.writeOffAccounts.bankCharges,
  );
  await decide(
    deps,
    id,
    movable,
    'manually_matched',
    input,
    {
      allocations,
      writeOff,
      explanation: `matched by ${input.actor} with ${chosen.map((c) => c.number).join(', ')}`,
      odoo: true,
    },
    { invoiceIds: allocations.map((a) => a.itemId) },
  );
  await applyInOdoo(deps, id);
  return mustExist(deps, id);
}

/** Statuses whose line is (or is being) reconciled in Odoo, and so can be undone. */
const undoable: readonly ItemStatus[] = ['auto_reconciled', 'accepted', 'manually_matched'];

/**
 * Undoes a line's reconciliation: Odoo's `action_undo_reconciliation` on the statement line (its
 * suspense item comes back, write-off items go), then the line goes back to the queue: a proposal
 * with the same allocations, or an exception when it had none. Audited with the identity, and
 * `kontor.reconciliation.undone.v1` published, in the transaction that changes the state.
 * Idempotent: a line already back in the queue is returned as it is; a crash after Odoo's undo is
 * finished by the next call (undoing an unreconciled line in Odoo changes nothing).
 */
export async function undoReconciliation(
  deps: ReconciliationDeps,
  id: string,
  by: DecisionActor,
): Promise<ReconciliationItem> {
  const item = await mustExist(deps, id);
  if (!undoable.includes(item.status)) {
    if (item.status === 'proposed' || item.status === 'exception') return item;
    throw new ConflictError(
      `reconciliation item ${id} is ${item.status}; only ${undoable.join(', ')} items can be undone`,
    );
  }
  const statementLineId =
    item.odoo.statementLineId ?? (await readItemRow(deps.db, id))?.statement_odoo_line_id;
  const target = resolveAccountTarget(deps, item.bankAccountId);
  // Odoo first: if it fails, nothing in Kontor changed and the person may try again.
  if (statementLineId !== null && statementLineId !== undefined)
    await deps.ledger.undoReconciliation(target?.companyId, Number(statementLineId));
  await deps.db.transaction(async (tx) => {
    const row = await readItemRow(tx, id, true);
    if (row === undefined) throw new NotFoundError(`no reconciliation item ${id}`);
    // A concurrent undo won: nothing left to do.
    if (!undoable.includes(row.status)) return;
    const to: ItemStatus = row.allocations.length > 0 ? 'proposed' : 'exception';
    const now = deps.clock.now();
    await tx.query(
      `UPDATE reconciliation_items
          SET status = $2, decided_by = $3, decided_at = $4, correlation_id = COALESCE($5, correlation_id),
              explanation = $6, odoo_state = 'none', odoo_attempts = 0, odoo_error = NULL, updated_at = $4
        WHERE line_id = $1`,
      [
        id,
        to,
        by.actor,
        now,
        by.correlationId ?? null,
        `reconciliation undone by ${by.actor}; was ${row.status}: ${row.explanation}`.slice(0, 2000),
      ],
    );
    const round = await undoRound(tx, id);
    const itemIds = row.allocations.map((a) => a.itemId);
    await deps.publish(tx, {
      type: 'kontor.reconciliation.undone.v1',
      id: `undone-${id}-${round + 1}`,
      subject: row.bank_account_id,
      ...(by.correlationId === undefined ? {} : { correlationId: by.correlationId }),
      data: {
        statementLineId: id,
        bankAccountId: row.bank_account_id,
        itemIds,
        amount: toMoneyJson(money(row.amount, row.currency)),
        status: to,
        actor: by.actor,
      },
    });
    await deps.audit(tx, {
      actor: by.actor,
      action: 'reconciliation.undone',
      resourceType: 'reconciliation-item',
      resourceId: id,
      before: { status: row.status, odooState: row.odoo_state, allocations: row.allocations },
      after: { status: to, odooState: 'none', allocations: row.allocations },
      ...(by.correlationId === undefined ? {} : { correlationId: by.correlationId }),
      details: {
        from: row.status,
        to,
        bankAccountId: row.bank_account_id,
        odooStatementLineId:
          statementLineId === null || statementLineId === undefined ? null : Number(statementLineId),
        itemIds,
      },
    });
  });
  return mustExist(deps, id);
}

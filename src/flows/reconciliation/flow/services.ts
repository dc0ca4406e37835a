/** The reconciliation functions the API and the CLI call, bound to their dependencies by main.ts. */
import { checkBalances, type BalanceCheckReport } from './check.ts';
import {
  acceptProposal,
  matchManually,
  rejectProposal,
  undoReconciliation,
  type DecisionActor,
} from './decisions.ts';
import type { ReconciliationDeps } from './deps.ts';
import { getReconciliationItem, type ReconciliationItem } from './items.ts';
import { listExceptions, type ExceptionFilter, type ExceptionPage } from './queries.ts';
import {
  reconcilePending,
  reconcileStatement,
  type ReconcileStatementResult,
} from './reconcile-statement.ts';
import { rematchExceptions, type RematchResult } from './rematch.ts';

/** Reconciliation as an application service. */
export interface ReconciliationServices {
  reconcileStatement(statementRowId: string): Promise<ReconcileStatementResult>;
  reconcilePending(): ReturnType<typeof reconcilePending>;
  listExceptions(filter: ExceptionFilter): Promise<ExceptionPage>;
  get(id: string): Promise<ReconciliationItem | undefined>;
  accept(id: string, by: DecisionActor): Promise<ReconciliationItem>;
  reject(id: string, by: DecisionActor & { note?: string | undefined }): Promise<ReconciliationItem>;
  match(id: string, input: DecisionActor & { itemIds: readonly string[] }): Promise<ReconciliationItem>;
  /** Undoes the line's reconciliation in Odoo and puts it back in the queue (idempotent). */
  undo(id: string, by: DecisionActor): Promise<ReconciliationItem>;
  /** Matches the engine's exceptions again against the current open items (`force`: even if unchanged). */
  rematch(options?: { force?: boolean }): Promise<RematchResult>;
  /** The batch checkpoint of `kontor reconcile check --date`. */
  check(date: string): Promise<BalanceCheckReport>;
}

/** Binds the flow's functions to their dependencies. */
export function createReconciliationServices(deps: ReconciliationDeps): ReconciliationServices {
  return {
    reconcileStatement: (id) => reconcileStatement(deps, id),
    reconcilePending: () => reconcilePending(deps),
    listExceptions: (filter) => listExceptions(deps.db, deps.clock, filter),
    get: (id) => getReconciliationItem(deps.db, id),
    accept: (id, by) => acceptProposal(deps, id, by),
    reject: (id, by) => rejectProposal(deps, id, by),
    match: (id, input) => matchManually(deps, id, input),
    undo: (id, by) => undoReconciliation(deps, id, by),
    rematch: (options) => rematchExceptions(deps, options),
    check: (date) => checkBalances(deps, date),
  };
}

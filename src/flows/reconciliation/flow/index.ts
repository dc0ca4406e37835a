/**
 * The reconciliation flow on top of the engine: statement lines and Odoo open items in, decisions
 * stored once per line, auto matches reconciled in Odoo, the rest queued for a person.
 */
export { PAYMENT_ITEM_PREFIX } from './deps.ts';
export type {
  RegisteredPayment,
  RegisteredPaymentFinder,
  ReconciliationAccount,
  ReconciliationAuditFn,
  ReconciliationDeps,
  ReconciliationEntity,
  ReconciliationPublishFn,
} from './deps.ts';
export {
  applyInOdoo,
  getReconciliationItem,
  type ApplyOutcome,
  type ItemStatus,
  type OdooState,
  type ReconciliationItem,
  type StoredAllocation,
} from './items.ts';
export {
  reconcilePending,
  reconcileStatement,
  PAYMENT_LINK_RULE,
  type ReconcileStatementResult,
} from './reconcile-statement.ts';
export { rematchExceptions, type RematchResult } from './rematch.ts';
export {
  acceptProposal,
  allocateManually,
  matchManually,
  rejectProposal,
  undoReconciliation,
  type DecisionActor,
} from './decisions.ts';
export { listExceptions, type ExceptionFilter, type ExceptionPage } from './queries.ts';
export { checkBalances, type AccountBalanceCheck, type BalanceCheckReport } from './check.ts';
export { startReconciliationLoop, type ReconciliationLoop, type ReconciliationLoopOptions } from './loop.ts';
export { createReconciliationServices, type ReconciliationServices } from './services.ts';

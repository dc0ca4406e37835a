// The Odoo connector: JSON-RPC/JSON-2 transport with throttling and circuit breaking, typed access to the
// finance models Kontor uses, idempotent batched writes, the sandbox Odoo and `kontor odoo check`.
export { fromOdooAmount, toOdooDecimal, toOdooNumber } from './amounts.ts';
export {
  type BatchWriteResult,
  createExternalId,
  kontorModule,
  type WriteOutcome,
  type WriteStatus,
} from './batch.ts';
export * from './client.ts';
export { mapOdooFault, type OdooFault } from './errors.ts';
export { type CircuitState, systemTimer, type Timer } from './resilience.ts';
export {
  type OdooCall,
  type OdooCredentials,
  type OdooProtocol,
  OdooTransport,
  type OdooTransportOptions,
  type OdooTransportStats,
  type OdooVersion,
} from './transport.ts';
export {
  createRfReference,
  type SandboxOdoo,
  type SandboxOdooOptions,
  type SandboxSeed,
  startSandboxOdoo,
} from './sandbox/index.ts';
export {
  checkOdooConnection,
  type ConfiguredBankAccount,
  formatOdooCheckReport,
  type JournalMapping,
  mapBankAccountsToJournals,
  type OdooCheckReport,
  readOdooCredentials,
} from './check.ts';
export { createOdooStatementPoster, type OdooStatementPosterOptions } from './statement-poster.ts';
export {
  createOdooReconciliationLedger,
  type OdooReconciliationLedgerOptions,
} from './reconciliation-adapter.ts';
export { createOdooVendorPayables } from './payment-adapter.ts';

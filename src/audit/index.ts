/**
 * The tamper-evident audit log: append-only, hash-chained records written in the caller's
 * transaction, Ed25519-signed checkpoints, the chain verifier and the queries behind the API.
 */
export { canonicalJson, digestOf, sha256Hex } from './canonical-json.ts';
export {
  recordAudit,
  readAuditHead,
  computeRecordHash,
  GENESIS_HASH,
  type AuditEntry,
  type AuditRecord,
} from './record.ts';
export {
  createAuditCheckpoint,
  parseAuditSigningKey,
  generateAuditSigningKey,
  verifyCheckpointSignature,
  keyIdOf,
  type AuditSigner,
  type AuditCheckpoint,
} from './checkpoint.ts';
export {
  verifyAuditChain,
  type VerifyChainResult,
  type ChainBreak,
  type VerifyChainOptions,
} from './verify-chain.ts';
export { listAuditRecords, exportAuditRecords, auditRecordToJson, type AuditFilter } from './query.ts';

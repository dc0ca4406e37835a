/**
 * Appends audit records to the hash chain inside the caller's transaction, so a business write
 * and its audit record commit (or roll back) together.
 */
import { AppError, ErrorCodes } from '../domain/index.ts';
import { auditRecordsWritten, currentCorrelationId } from '../observability/index.ts';
import type { Queryable, Tx } from '../store/index.ts';
import { canonicalJson, digestOf, sha256Hex } from './canonical-json.ts';

/** The hash before the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a caller records: who did what to which resource, and the states before and after. */
export interface AuditEntry {
  /** Identity id (or `system`, `cli:<user>`). */
  actor: string;
  /** `<resource>.<verb>`, e.g. `identity.created`. */
  action: string;
  resourceType: string;
  resourceId?: string | undefined;
  /** State before the change; only its digest is stored. */
  before?: unknown;
  /** State after the change; only its digest is stored. */
  after?: unknown;
  /** Defaults to the correlation id of the current request or job. */
  correlationId?: string | undefined;
  /** Small, non-secret facts worth reading without the object itself. */
  details?: Record<string, unknown> | undefined;
  /** Defaults to now. */
  time?: Date | undefined;
}

/** One stored record of the chain. */
export interface AuditRecord {
  seq: bigint;
  time: Date;
  actor: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
  beforeDigest: string | null;
  afterDigest: string | null;
  correlationId: string | null;
  details: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

/** The fields a record's hash covers, in their canonical form. */
export function hashedFields(r: Omit<AuditRecord, 'hash'>): Record<string, unknown> {
  return {
    seq: r.seq.toString(),
    time: r.time.toISOString(),
    actor: r.actor,
    action: r.action,
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    beforeDigest: r.beforeDigest,
    afterDigest: r.afterDigest,
    correlationId: r.correlationId,
    details: r.details,
    prevHash: r.prevHash,
  };
}

/** hash = sha256(prev_hash + canonical JSON of the record without its hash). */
export function computeRecordHash(r: Omit<AuditRecord, 'hash'>): string {
  return sha256Hex(r.prevHash + canonicalJson(hashedFields(r)));
}

/** Appends one record; call it with the transaction of the change it records. */
export async function recordAudit(tx: Tx, entry: AuditEntry): Promise<AuditRecord> {
  if (entry.actor === '' || entry.action === '' || entry.resourceType === '') {
    throw new AppError(ErrorCodes.INTERNAL, 'an audit entry needs an actor, an action and a resource type');
  }
  // The head row lock serialises writers on PostgreSQL until commit; on PGlite the single
  // connection already serialises transactions, and the same SQL works.
  const head = await tx.query<{ seq: bigint; hash: string }>(
    'SELECT seq, hash FROM kontor_audit_head WHERE singleton FOR UPDATE',
  );
  const current = head.rows[0];
  if (current === undefined)
    throw new AppError(ErrorCodes.INTERNAL, 'kontor_audit_head is missing: run the migrations');
  const unhashed: Omit<AuditRecord, 'hash'> = {
    seq: BigInt(current.seq) + 1n,
    // Millisecond precision: what a JS Date holds is what the hash covers.
    time: new Date((entry.time ?? new Date()).getTime()),
    actor: entry.actor,
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId ?? null,
    beforeDigest: entry.before === undefined ? null : digestOf(entry.before),
    afterDigest: entry.after === undefined ? null : digestOf(entry.after),
    correlationId: entry.correlationId ?? currentCorrelationId() ?? null,
    // Stored as jsonb: normalise it first so what is read back hashes the same.
    details:
      entry.details === undefined
        ? null
        : (JSON.parse(canonicalJson(entry.details)) as Record<string, unknown>),
    prevHash: current.hash,
  };
  const record: AuditRecord = { ...unhashed, hash: computeRecordHash(unhashed) };
  await tx.query(
    `INSERT INTO kontor_audit (seq, time, actor, action, resource_type, resource_id, before_digest, after_digest, correlation_id, details, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12)`,
    [
      record.seq.toString(),
      record.time.toISOString(),
      record.actor,
      record.action,
      record.resourceType,
      record.resourceId,
      record.beforeDigest,
      record.afterDigest,
      record.correlationId,
      record.details === null ? null : JSON.stringify(record.details),
      record.prevHash,
      record.hash,
    ],
  );
  await tx.query('UPDATE kontor_audit_head SET seq = $1, hash = $2 WHERE singleton', [
    record.seq.toString(),
    record.hash,
  ]);
  auditRecordsWritten().inc();
  return record;
}

interface AuditRow {
  seq: bigint;
  time: Date;
  actor: string;
  action: string;
  resource_type: string;
  resource_id: string | null;
  before_digest: string | null;
  after_digest: string | null;
  correlation_id: string | null;
  details: Record<string, unknown> | string | null;
  prev_hash: string;
  hash: string;
}

/** Columns to select for {@link toAuditRecord}. */
export const AUDIT_COLUMNS =
  'seq, time, actor, action, resource_type, resource_id, before_digest, after_digest, correlation_id, details, prev_hash, hash';

/** Maps a stored row to a record. */
export function toAuditRecord(row: AuditRow): AuditRecord {
  return {
    seq: BigInt(row.seq),
    time: row.time instanceof Date ? row.time : new Date(row.time),
    actor: row.actor,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    beforeDigest: row.before_digest,
    afterDigest: row.after_digest,
    correlationId: row.correlation_id,
    details:
      typeof row.details === 'string' ? (JSON.parse(row.details) as Record<string, unknown>) : row.details,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Reads the current head of the chain. */
export async function readAuditHead(q: Queryable): Promise<{ seq: bigint; hash: string }> {
  const r = await q.query<{ seq: bigint; hash: string }>(
    'SELECT seq, hash FROM kontor_audit_head WHERE singleton',
  );
  const row = r.rows[0];
  if (row === undefined)
    throw new AppError(ErrorCodes.INTERNAL, 'kontor_audit_head is missing: run the migrations');
  return { seq: BigInt(row.seq), hash: row.hash };
}

export type { AuditRow };

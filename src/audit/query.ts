/** Reads the audit log: filtered pages for the API, and a time range as JSONL for auditors. */
import type { Queryable } from '../store/index.ts';
import { AUDIT_COLUMNS, hashedFields, toAuditRecord, type AuditRecord, type AuditRow } from './record.ts';

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  /** Inclusive lower bound on time. */
  from?: Date | undefined;
  /** Exclusive upper bound on time. */
  to?: Date | undefined;
  /** Return records with seq greater than this (the previous page's cursor). */
  afterSeq?: bigint | undefined;
  limit?: number | undefined;
}

function where(filter: AuditFilter): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.actor !== undefined) add('actor = ?', filter.actor);
  if (filter.action !== undefined) add('action = ?', filter.action);
  if (filter.resourceType !== undefined) add('resource_type = ?', filter.resourceType);
  if (filter.resourceId !== undefined) add('resource_id = ?', filter.resourceId);
  if (filter.from !== undefined) add('time >= ?', filter.from.toISOString());
  if (filter.to !== undefined) add('time < ?', filter.to.toISOString());
  if (filter.afterSeq !== undefined) add('seq > ?', filter.afterSeq.toString());
  return { sql: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}

/** Lists records in seq order; `nextAfterSeq` is set when more may follow. */
export async function listAuditRecords(
  q: Queryable,
  filter: AuditFilter = {},
): Promise<{ records: AuditRecord[]; nextAfterSeq: bigint | undefined }> {
  const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
  const { sql, params } = where(filter);
  const r = await q.query<AuditRow>(
    `SELECT ${AUDIT_COLUMNS} FROM kontor_audit ${sql} ORDER BY seq LIMIT ${limit + 1}`,
    params,
  );
  const records = r.rows.slice(0, limit).map(toAuditRecord);
  return { records, nextAfterSeq: r.rows.length > limit ? records.at(-1)?.seq : undefined };
}

/** The JSON form of a record (seq as a string, time as ISO 8601). */
export function auditRecordToJson(r: AuditRecord): Record<string, unknown> {
  return { ...hashedFields(r), hash: r.hash };
}

/** Writes every record of a time range as JSON lines through `write`; returns the count. */
export async function exportAuditRecords(
  q: Queryable,
  range: { from?: Date; to?: Date },
  write: (line: string) => void | Promise<void>,
): Promise<number> {
  let afterSeq: bigint | undefined;
  let count = 0;
  for (;;) {
    const page = await listAuditRecords(q, { from: range.from, to: range.to, afterSeq, limit: 1000 });
    for (const r of page.records) {
      await write(`${JSON.stringify(auditRecordToJson(r))}\n`);
      count++;
    }
    if (page.nextAfterSeq === undefined) return count;
    afterSeq = page.nextAfterSeq;
  }
}

/** The exception queue: lines waiting for a person, oldest first, filtered and paged by cursor. */
import { ValidationError, type Clock } from '../../../domain/index.ts';
import type { Queryable } from '../../../store/index.ts';
import type { MatchReason } from '../types.ts';
import { ITEM_SELECT, toItem, type ItemRow, type ItemStatus, type ReconciliationItem } from './items.ts';

/** Filters of `GET /v1/reconciliation/exceptions`. */
export interface ExceptionFilter {
  entityId?: string | undefined;
  bankAccountId?: string | undefined;
  reason?: MatchReason | undefined;
  /** Only items at least this old. */
  minAgeSeconds?: number | undefined;
  /** Default: the items waiting for a person (proposed and exception). */
  statuses?: readonly ItemStatus[] | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** One page of the queue; each item carries its age. */
export interface ExceptionPage {
  data: (ReconciliationItem & { ageSeconds: number })[];
  hasMore: boolean;
  nextCursor: string | null;
}

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      !Number.isNaN(Date.parse(v[0]))
    )
      return [v[0], v[1]];
  } catch {
    // fall through to the typed error
  }
  throw new ValidationError('invalid cursor', [
    { path: 'cursor', message: 'use nextCursor of the previous page' },
  ]);
}

/** Lists the queue oldest first (the oldest exception is the most urgent one). */
export async function listExceptions(
  db: Queryable,
  clock: Clock,
  filter: ExceptionFilter = {},
): Promise<ExceptionPage> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
  const now = clock.now();
  const params: unknown[] = [filter.statuses ?? ['proposed', 'exception']];
  const where = ['r.status = ANY($1)'];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.entityId !== undefined) add('r.entity_id = ?', filter.entityId);
  if (filter.bankAccountId !== undefined) add('r.bank_account_id = ?', filter.bankAccountId);
  if (filter.reason !== undefined) add('r.reason = ?', filter.reason);
  if (filter.minAgeSeconds !== undefined)
    add('r.created_at <= ?', new Date(now.getTime() - filter.minAgeSeconds * 1000));
  if (filter.cursor !== undefined) {
    const [createdAt, id] = decodeCursor(filter.cursor);
    params.push(new Date(createdAt), id);
    where.push(`(r.created_at, r.line_id) > ($${params.length - 1}, $${params.length})`);
  }
  params.push(limit + 1);
  const rows = (
    await db.query<ItemRow>(
      `${ITEM_SELECT} WHERE ${where.join(' AND ')} ORDER BY r.created_at, r.line_id LIMIT $${params.length}`,
      params,
    )
  ).rows;
  const page = rows.slice(0, limit).map((row) => {
    const item = toItem(row);
    return {
      ...item,
      ageSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(item.createdAt)) / 1000)),
    };
  });
  const last = page.at(-1);
  const hasMore = rows.length > limit;
  return {
    data: page,
    hasMore,
    nextCursor: hasMore && last !== undefined ? encodeCursor(last.createdAt, last.id) : null,
  };
}

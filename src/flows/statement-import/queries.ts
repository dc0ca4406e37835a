/** Reading imports back: the list with posting progress, and one import with every line's Odoo status. */
import type { Queryable } from '../../store/index.ts';
import type { ImportSummary } from './import.ts';

export interface ImportListItem {
  id: string;
  fileName: string | null;
  format: string;
  source: string;
  actor: string;
  status: 'received' | 'posted' | 'partially_posted';
  createdAt: string;
  postedAt: string | null;
  lines: { total: number; posted: number; pending: number; failed: number };
}

export interface ImportDetail extends ImportListItem {
  summary: ImportSummary;
  statementLines: {
    id: string;
    statementId: string;
    bankAccountId: string;
    bookingDate: string;
    amount: { amount: string; currency: string };
    counterpartyName: string | null;
    remittanceInfo: string | null;
    endToEndId: string | null;
    odoo: { status: 'pending' | 'posted' | 'failed'; lineId: number | null; error: string | null };
  }[];
}

interface ImportRow {
  id: string;
  file_name: string | null;
  format: string;
  source: string;
  actor: string;
  status: ImportListItem['status'];
  created_at: Date;
  posted_at: Date | null;
  total: bigint;
  posted: bigint;
  pending: bigint;
  failed: bigint;
  summary: ImportSummary;
}

const IMPORT_SELECT = `
  SELECT i.id, i.file_name, i.format, i.source, i.actor, i.status, i.created_at, i.posted_at, i.summary,
         count(l.id) AS total,
         count(l.id) FILTER (WHERE l.odoo_status = 'posted') AS posted,
         count(l.id) FILTER (WHERE l.odoo_status = 'pending') AS pending,
         count(l.id) FILTER (WHERE l.odoo_status = 'failed') AS failed
    FROM statement_imports i LEFT JOIN statement_lines l ON l.import_id = i.id`;

function toItem(r: ImportRow): ImportListItem {
  return {
    id: r.id,
    fileName: r.file_name,
    format: r.format,
    source: r.source,
    actor: r.actor,
    status: r.status,
    createdAt: r.created_at.toISOString(),
    postedAt: r.posted_at?.toISOString() ?? null,
    lines: {
      total: Number(r.total),
      posted: Number(r.posted),
      pending: Number(r.pending),
      failed: Number(r.failed),
    },
  };
}

/** Lists imports, newest first, with cursor pagination (`before` = the last id of the previous page). */
export async function listImports(
  db: Queryable,
  options: { limit?: number; before?: string; status?: ImportListItem['status'] } = {},
) {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
  const r = await db.query<ImportRow>(
    `${IMPORT_SELECT}
      WHERE ($1::text IS NULL OR i.created_at < (SELECT created_at FROM statement_imports WHERE id = $1)
             OR (i.created_at = (SELECT created_at FROM statement_imports WHERE id = $1) AND i.id < $1))
        AND ($2::text IS NULL OR i.status = $2)
      GROUP BY i.id
      ORDER BY i.created_at DESC, i.id DESC
      LIMIT $3`,
    [options.before ?? null, options.status ?? null, limit + 1],
  );
  const items = r.rows.slice(0, limit).map(toItem);
  return {
    data: items,
    hasMore: r.rows.length > limit,
    nextCursor: r.rows.length > limit ? (items.at(-1)?.id ?? null) : null,
  };
}

/** One import with its lines and their Odoo status; undefined when unknown. */
export async function getImport(db: Queryable, id: string): Promise<ImportDetail | undefined> {
  const r = await db.query<ImportRow>(`${IMPORT_SELECT} WHERE i.id = $1 GROUP BY i.id`, [id]);
  const row = r.rows[0];
  if (row === undefined) return undefined;
  const lines = await db.query<{
    id: string;
    statement_row_id: string;
    bank_account_id: string;
    booking_date: string;
    amount: bigint;
    currency: string;
    counterparty_name: string | null;
    remittance_info: string | null;
    end_to_end_id: string | null;
    odoo_status: 'pending' | 'posted' | 'failed';
    odoo_line_id: bigint | null;
    odoo_error: string | null;
    line: { amount: { amount: string; currency: string } };
  }>(
    `SELECT id, statement_row_id, bank_account_id, booking_date, amount, currency, counterparty_name, remittance_info, end_to_end_id,
            odoo_status, odoo_line_id, odoo_error, line
       FROM statement_lines WHERE import_id = $1 ORDER BY statement_row_id, seq_in_statement`,
    [id],
  );
  return {
    ...toItem(row),
    summary: row.summary,
    statementLines: lines.rows.map((l) => ({
      id: l.id,
      statementId: l.statement_row_id,
      bankAccountId: l.bank_account_id,
      bookingDate: l.booking_date,
      amount: l.line.amount,
      counterpartyName: l.counterparty_name,
      remittanceInfo: l.remittance_info,
      endToEndId: l.end_to_end_id,
      odoo: {
        status: l.odoo_status,
        lineId: l.odoo_line_id === null ? null : Number(l.odoo_line_id),
        error: l.odoo_error,
      },
    })),
  };
}

/** Lines waiting for Odoo per bank account: the posting backlog. */
export async function readPostingBacklog(
  db: Queryable,
): Promise<{ bankAccountId: string; pending: number; oldest: string | null }[]> {
  const r = await db.query<{ bank_account_id: string; pending: bigint; oldest: string | null }>(
    `SELECT bank_account_id, count(*) AS pending, min(booking_date)::text AS oldest
       FROM statement_lines WHERE odoo_status = 'pending' GROUP BY bank_account_id ORDER BY bank_account_id`,
  );
  return r.rows.map((x) => ({
    bankAccountId: x.bank_account_id,
    pending: Number(x.pending),
    oldest: x.oldest,
  }));
}

/**
 * Posting: pushes the pending lines of a bank account to Odoo in batches through the injected
 * poster (idempotent by bank account + statement + entry), records each line's Odoo id, and
 * when an import has nothing pending any more publishes `kontor.bank.statement.posted.v1`.
 * When Odoo is down the poster throws a retryable error: the lines stay pending (the backlog is
 * visible) and the caller retries later; nothing is posted twice.
 */
import {
  money,
  type Clock,
  type StatementLinePoster,
  type StatementLinePosting,
} from '../../domain/index.ts';
import { Mutex, type Db } from '../../store/index.ts';
import type { ImportAccount, ImportEntity } from './accounts.ts';
import type { AuditFn, PublishFn } from './import.ts';

export interface StatementPostingDeps {
  db: Db;
  accounts: readonly ImportAccount[];
  entities: readonly ImportEntity[];
  poster: StatementLinePoster;
  publish: PublishFn;
  audit: AuditFn;
  clock: Clock;
  /** Lines per Odoo call (default 200). */
  batchSize?: number;
}

export interface PostingResult {
  posted: number;
  failed: number;
  /** Imports that became complete in this run. */
  completedImports: string[];
}

interface PendingRow {
  id: string;
  statement_id: string;
  entry_key: string;
  booking_date: string;
  amount: bigint;
  currency: string;
  counterparty_name: string | null;
  counterparty_iban: string | null;
  remittance_info: string | null;
  end_to_end_id: string | null;
  line: { bankTransactionCode?: string };
}

function toPosting(bankAccountId: string, row: PendingRow): StatementLinePosting {
  const label = row.remittance_info ?? row.counterparty_name ?? row.end_to_end_id ?? '/';
  return {
    lineId: row.id,
    bankAccountId,
    statementId: row.statement_id,
    entryRef: row.entry_key,
    date: row.booking_date,
    amount: money(row.amount, row.currency),
    paymentRef: label.slice(0, 500),
    ...(row.counterparty_name === null ? {} : { counterpartyName: row.counterparty_name }),
    ...(row.counterparty_iban === null ? {} : { counterpartyIban: row.counterparty_iban }),
    ...(row.line.bankTransactionCode === undefined ? {} : { transactionType: row.line.bankTransactionCode }),
  };
}

// One posting run at a time per database in this process (the loop, and postPending from the CLI/API).
const running = new WeakMap<object, Mutex>();

/** Posts every pending line of one bank account (or of all accounts), oldest first. */
export async function postPendingLines(
  deps: StatementPostingDeps,
  options: { bankAccountId?: string } = {},
): Promise<PostingResult> {
  let mutex = running.get(deps.db);
  if (mutex === undefined) running.set(deps.db, (mutex = new Mutex()));
  return mutex.run(() => postPendingLinesNow(deps, options));
}

async function postPendingLinesNow(
  deps: StatementPostingDeps,
  options: { bankAccountId?: string },
): Promise<PostingResult> {
  const result: PostingResult = { posted: 0, failed: 0, completedImports: [] };
  const batchSize = deps.batchSize ?? 200;
  const accounts =
    options.bankAccountId === undefined
      ? deps.accounts
      : deps.accounts.filter((a) => a.id === options.bankAccountId);
  for (const account of accounts) {
    const entity = deps.entities.find((e) => e.id === account.entity);
    for (;;) {
      // The statement's own id (not Kontor's row id) makes the Odoo external id stable across re-imports.
      const pending = await deps.db.query<PendingRow>(
        `SELECT l.id, s.statement_id, l.entry_key, l.booking_date, l.amount, l.currency, l.counterparty_name, l.counterparty_iban,
                l.remittance_info, l.end_to_end_id, l.line
           FROM statement_lines l JOIN bank_statements s ON s.id = l.statement_row_id
          WHERE l.bank_account_id = $1 AND l.odoo_status = 'pending'
          ORDER BY l.import_id, l.seq_in_statement
          LIMIT $2`,
        [account.id, batchSize],
      );
      if (pending.rows.length === 0) break;
      const outcomes = await deps.poster.postStatementLines(
        { companyId: entity?.odooCompanyId, journal: account.odooJournal },
        pending.rows.map((r) => toPosting(account.id, r)),
      );
      const now = deps.clock.now();
      await deps.db.transaction(async (tx) => {
        for (const o of outcomes) {
          if (o.status === 'posted') {
            await tx.query(
              `UPDATE statement_lines SET odoo_status = 'posted', odoo_line_id = $2, odoo_error = NULL, posted_at = $3
                WHERE id = $1 AND odoo_status <> 'posted'`,
              [o.lineId, o.odooId, now],
            );
            result.posted++;
          } else {
            await tx.query(
              // A concurrent poster may have booked the line meanwhile: a late failure never overrides 'posted'.
              `UPDATE statement_lines SET odoo_status = 'failed', odoo_error = $2 WHERE id = $1 AND odoo_status = 'pending'`,
              [o.lineId, o.error],
            );
            result.failed++;
          }
        }
      });
      if (outcomes.length === 0) break;
    }
  }
  result.completedImports = await completeImports(deps);
  return result;
}

/** Marks imports with no pending line as posted and publishes one posted event per statement. */
async function completeImports(deps: StatementPostingDeps): Promise<string[]> {
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const done = await tx.query<{ id: string; correlation_id: string; failed: bigint }>(
      `UPDATE statement_imports i
          SET status = CASE WHEN EXISTS (SELECT 1 FROM statement_lines l WHERE l.import_id = i.id AND l.odoo_status = 'failed')
                            THEN 'partially_posted' ELSE 'posted' END,
              posted_at = $1
        WHERE i.status = 'received'
          AND NOT EXISTS (SELECT 1 FROM statement_lines l WHERE l.import_id = i.id AND l.odoo_status = 'pending')
      RETURNING i.id, i.correlation_id, (SELECT count(*) FROM statement_lines l WHERE l.import_id = i.id AND l.odoo_status = 'failed') AS failed`,
      [now],
    );
    for (const imp of done.rows) {
      const statements = await tx.query<{ id: string; bank_account_id: string; posted: bigint }>(
        `SELECT s.id, s.bank_account_id,
                (SELECT count(*) FROM statement_lines l WHERE l.statement_row_id = s.id AND l.odoo_status = 'posted') AS posted
           FROM bank_statements s WHERE s.import_id = $1 ORDER BY s.id`,
        [imp.id],
      );
      for (const s of statements.rows) {
        const total = await tx.query<{ n: bigint }>(
          `SELECT line_count - new_line_count AS n FROM bank_statements WHERE id = $1`,
          [s.id],
        );
        await deps.publish(tx, {
          type: 'kontor.bank.statement.posted.v1',
          // Deterministic: completing the same statement again cannot publish a second event.
          id: `posted-${s.id}`,
          subject: s.bank_account_id,
          correlationId: imp.correlation_id,
          data: {
            statementId: s.id,
            bankAccountId: s.bank_account_id,
            linesPosted: Number(s.posted),
            linesSkippedAsDuplicate: Math.max(0, Number(total.rows[0]?.n ?? 0n)),
          },
        });
      }
      await deps.audit(tx, {
        actor: 'system',
        action: imp.failed > 0n ? 'statement.partially_posted' : 'statement.posted',
        resourceType: 'statement-import',
        resourceId: imp.id,
        correlationId: imp.correlation_id,
        details: { failedLines: Number(imp.failed) },
      });
    }
    return done.rows.map((r) => r.id);
  });
}

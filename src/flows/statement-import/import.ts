/**
 * Receiving a statement file: parse → validate (account, currency, balances) → store the
 * statements, their new lines and a `kontor.bank.statement.received.v1` event per statement in
 * ONE transaction. A file that fails any check stores nothing; the same file twice answers with
 * the first import's result.
 */
import { createHash } from 'node:crypto';
import {
  ErrorCodes,
  formatMoney,
  toMoneyJson,
  ValidationError,
  type Clock,
  type IdGenerator,
  type Statement,
  type StatementLine,
} from '../../domain/index.ts';
import {
  checkBalance,
  detectFormat,
  readStatementEvents,
  type ParseStatementsOptions,
  type StatementSummary,
} from '../../formats/index.ts';
import type { Db, Tx } from '../../store/index.ts';
import type { AuditFn, PublishFn } from '../shared/index.ts';
import {
  csvProfileOf,
  findAccountById,
  resolveAccount,
  type ImportAccount,
  type ImportEntity,
} from './accounts.ts';
import { assignEntryKeys } from './entry-key.ts';

export type { AuditFn, PublishFn } from '../shared/index.ts';

export interface StatementImportDeps {
  db: Db;
  accounts: readonly ImportAccount[];
  entities: readonly ImportEntity[];
  publish: PublishFn;
  audit: AuditFn;
  clock: Clock;
  ids: IdGenerator;
  /** Files larger than this are rejected before parsing (default 200 MiB). */
  maxBytes?: number;
  /** Parser options (size limit, encoding); a CSV's profile comes from its account. */
  parseOptions?: ParseStatementsOptions;
}

export type ImportSource = 'api' | 'folder' | 'cli';

export interface ImportFileInput {
  content: Uint8Array;
  fileName?: string | undefined;
  source: ImportSource;
  /** Who imports: an identity id, `folder:<account>`, `cli:<user>`. */
  actor: string;
  correlationId?: string | undefined;
  /**
   * The configured bank account the file is for (its id). A CSV needs it: CSV exports rarely name
   * their account, and the account's `csvProfile` says how to read the columns. For other formats
   * it is checked against the account the file names.
   */
  account?: string | undefined;
}

export interface ImportedStatement {
  id: string;
  bankAccountId: string;
  statementId: string;
  kind: Statement['kind'];
  format: string;
  currency: string;
  opening?: { amount: string; date: string } | undefined;
  closing?: { amount: string; date: string } | undefined;
  balanceCheck: 'balanced' | 'not-applicable';
  lines: number;
  newLines: number;
  /** Lines not booked yet (pending, information only): kept out of Odoo until booked. */
  notBooked: number;
}

/** What an import did; the same file twice returns the first result with `duplicate: true`. */
export interface ImportSummary {
  importId: string;
  duplicate: boolean;
  fileName: string | null;
  format: string;
  sha256: string;
  correlationId: string;
  statements: ImportedStatement[];
  lines: number;
  newLines: number;
  duplicateLines: number;
}

const DEFAULT_MAX_BYTES = 200 * 1024 * 1024;

/** The event catalogue's format label of a statement. */
export function eventFormatOf(
  format: string,
  kind: Statement['kind'],
): 'camt053' | 'camt052' | 'camt054' | 'mt940' | 'csv' {
  const camt = /camt\.?(05[234])/i.exec(format);
  if (camt) return `camt${camt[1]}` as 'camt053' | 'camt052' | 'camt054';
  if (/mt94/i.test(format)) return 'mt940';
  if (/csv/i.test(format)) return 'csv';
  return kind === 'report' ? 'camt052' : kind === 'notification' ? 'camt054' : 'camt053';
}

interface ParsedStatement {
  statement: Statement;
  summary: StatementSummary;
}

/**
 * Detects the format (and, for a CSV, takes the named account's profile), then yields the
 * file's statements one at a time: only one statement's lines are held at once.
 */
function readStatements(
  content: Uint8Array,
  deps: StatementImportDeps,
  named: ImportAccount | undefined,
  statementId: string,
): { format: string; statements: AsyncGenerator<ParsedStatement> } {
  const format = detectFormat(content.subarray(0, 8192));
  if (format === undefined) {
    throw new ValidationError(
      'the file is not a statement format Kontor reads (camt.052/053/054, MT940/942, or CSV with a profile)',
      [],
      {
        code: ErrorCodes.STATEMENT_FORMAT_UNKNOWN,
      },
    );
  }
  const options: ParseStatementsOptions = {
    ...deps.parseOptions,
    maxBytes: deps.maxBytes ?? DEFAULT_MAX_BYTES,
  };
  if (format === 'csv') {
    if (named === undefined) {
      throw new ValidationError(
        'a CSV statement names no account: say which bank account it is for (?account=<id>, the multipart field "account", or kontor import --account <id>)',
        [{ path: 'account', message: 'required for CSV files' }],
        { code: ErrorCodes.VALIDATION_FAILED },
      );
    }
    options.csv = {
      profile: csvProfileOf(named),
      statementId,
      account: named.iban !== undefined ? { iban: named.iban } : { accountNumber: named.accountNumber! },
    };
  }
  async function* statements(): AsyncGenerator<ParsedStatement> {
    let lines: StatementLine[] = [];
    for await (const event of readStatementEvents(format!, content, options)) {
      if (event.type === 'statement-start') lines = [];
      else if (event.type === 'line') lines.push(event.line);
      else {
        const { lineCount: _n, bookedTotal: _t, ...head } = event.summary;
        yield { statement: { ...head, lines }, summary: event.summary };
        lines = [];
      }
    }
  }
  return { format, statements: statements() };
}

/** Imports one statement file (all its statements, or nothing). */
export async function importStatementFile(
  deps: StatementImportDeps,
  input: ImportFileInput,
): Promise<ImportSummary> {
  const maxBytes = deps.maxBytes ?? DEFAULT_MAX_BYTES;
  if (input.content.byteLength > maxBytes) {
    throw new ValidationError(
      `the file has ${input.content.byteLength} bytes; the limit is ${maxBytes}`,
      [],
      { code: ErrorCodes.FILE_TOO_LARGE },
    );
  }
  const sha256 = createHash('sha256').update(input.content).digest('hex');
  const existing = await findImportBySha(deps.db, sha256);
  if (existing !== undefined) return { ...existing, duplicate: true };

  const named = input.account === undefined ? undefined : findAccountById(input.account, deps.accounts);
  // A CSV has no statement id of its own: its name, else its content, identifies it.
  const { format, statements: parsed } = readStatements(
    input.content,
    deps,
    named,
    input.fileName ?? `csv-${sha256.slice(0, 16)}`,
  );

  const importId = `imp_${deps.ids.next()}`;
  const correlationId = input.correlationId ?? importId;
  const now = deps.clock.now();
  try {
    return await deps.db.transaction(async (tx) => {
      // The unique sha256 makes a concurrent upload of the same file fail here, before any work.
      await tx.query(
        `INSERT INTO statement_imports (id, content_sha256, file_name, format, source, actor, correlation_id, status, summary, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', '{}', $8)`,
        [importId, sha256, input.fileName ?? null, format, input.source, input.actor, correlationId, now],
      );
      // Each statement is checked (account, currency, balance) and stored as soon as it is read, so
      // only one statement's lines are in memory; a failure anywhere in the file rolls all of it back.
      const statements: ImportedStatement[] = [];
      for await (const { statement, summary } of parsed) {
        const account = resolveAccount(statement, deps.accounts);
        if (named !== undefined && account.id !== named.id) {
          throw new ValidationError(
            `statement ${statement.statementId} is for bank account ${account.id}, not ${named.id} as the import said`,
            [{ path: 'account', message: `the file is for ${account.id}` }],
            { code: ErrorCodes.VALIDATION_FAILED },
          );
        }
        const balance = checkBalance(summary);
        if (balance.status === 'unbalanced') throw balance.error;
        statements.push(
          await storeStatement(tx, deps, {
            importId,
            statement,
            account,
            balanceCheck: balance.status,
            correlationId,
            fileName: input.fileName,
            sha256,
          }),
        );
      }
      if (statements.length === 0) {
        throw new ValidationError('the file contains no statement', [], {
          code: ErrorCodes.STATEMENT_PARSE_FAILED,
        });
      }
      const lines = statements.reduce((a, s) => a + s.lines - s.notBooked, 0);
      const newLines = statements.reduce((a, s) => a + s.newLines, 0);
      const summary: ImportSummary = {
        importId,
        duplicate: false,
        fileName: input.fileName ?? null,
        format: statements[0]!.format,
        sha256,
        correlationId,
        statements,
        lines,
        newLines,
        duplicateLines: lines - newLines,
      };
      // Nothing new to post (every line was already imported): the import is complete at once.
      await tx.query(`UPDATE statement_imports SET summary = $2, status = $3, posted_at = $4 WHERE id = $1`, [
        importId,
        JSON.stringify(summary),
        newLines === 0 ? 'posted' : 'received',
        newLines === 0 ? now : null,
      ]);
      await deps.audit(tx, {
        actor: input.actor,
        action: 'statement.imported',
        resourceType: 'statement-import',
        resourceId: importId,
        after: {
          sha256,
          fileName: input.fileName ?? null,
          statements: statements.map((s) => s.id),
          newLines,
        },
        correlationId,
        details: { source: input.source },
      });
      return summary;
    });
  } catch (e) {
    // Two uploads of the same file at once: the loser answers with the winner's result.
    if (isUniqueViolation(e)) {
      const winner = await findImportBySha(deps.db, sha256);
      if (winner !== undefined) return { ...winner, duplicate: true };
    }
    throw e;
  }
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === '23505';
}

async function storeStatement(
  tx: Tx,
  deps: StatementImportDeps,
  s: {
    importId: string;
    statement: Statement;
    account: ImportAccount;
    balanceCheck: 'balanced' | 'not-applicable';
    correlationId: string;
    fileName: string | undefined;
    sha256: string;
  },
): Promise<ImportedStatement> {
  const { statement, account } = s;
  const id = `stm_${deps.ids.next()}`;
  const booked = statement.lines.filter((l) => l.status === 'booked');
  const keys = assignEntryKeys(booked);
  await tx.query(
    `INSERT INTO bank_statements (id, import_id, bank_account_id, statement_id, kind, format, currency, opening_balance, opening_date, closing_balance, closing_date, line_count, new_line_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0)`,
    [
      id,
      s.importId,
      account.id,
      statement.statementId,
      statement.kind,
      statement.format,
      statement.account.currency,
      statement.openingBalance?.amount.amount ?? null,
      statement.openingBalance?.date ?? null,
      statement.closingBalance?.amount.amount ?? null,
      statement.closingBalance?.date ?? null,
      statement.lines.length,
    ],
  );
  let newLines = 0;
  const CHUNK = 500;
  for (let start = 0; start < booked.length; start += CHUNK) {
    const chunk = booked.slice(start, start + CHUNK);
    const r = await tx.query<{ id: string }>(
      `INSERT INTO statement_lines (id, bank_account_id, entry_key, statement_row_id, import_id, seq_in_statement, booking_date, value_date, amount, currency,
         counterparty_name, counterparty_iban, remittance_info, creditor_reference, end_to_end_id, line)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::date[], $8::date[], $9::int8[], $10::text[],
         $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::jsonb[])
       ON CONFLICT (bank_account_id, entry_key) DO NOTHING
       RETURNING id`,
      [
        chunk.map(() => `stl_${deps.ids.next()}`),
        chunk.map(() => account.id),
        chunk.map((_, i) => keys[start + i]!),
        chunk.map(() => id),
        chunk.map(() => s.importId),
        chunk.map((_, i) => start + i),
        chunk.map((l) => l.bookingDate),
        chunk.map((l) => l.valueDate ?? null),
        chunk.map((l) => l.amount.amount.toString()),
        chunk.map((l) => l.amount.currency),
        chunk.map((l) => l.counterparty?.name ?? null),
        chunk.map((l) => l.counterparty?.iban ?? null),
        chunk.map((l) => l.remittanceInfo ?? null),
        chunk.map((l) => l.creditorReference ?? null),
        chunk.map((l) => l.endToEndId ?? null),
        chunk.map((l) => JSON.stringify(lineJson(l))),
      ],
    );
    newLines += r.rowCount;
  }
  await tx.query(`UPDATE bank_statements SET new_line_count = $2 WHERE id = $1`, [id, newLines]);
  await deps.publish(tx, {
    type: 'kontor.bank.statement.received.v1',
    subject: account.id,
    correlationId: s.correlationId,
    data: {
      statementId: id,
      bankAccountId: account.id,
      format: eventFormatOf(statement.format, statement.kind),
      ...(s.fileName === undefined ? {} : { fileName: s.fileName }),
      fileSha256: s.sha256,
      lineCount: newLines,
    },
  });
  return {
    id,
    bankAccountId: account.id,
    statementId: statement.statementId,
    kind: statement.kind,
    format: statement.format,
    currency: statement.account.currency,
    opening: statement.openingBalance && {
      amount: formatMoney(statement.openingBalance.amount),
      date: statement.openingBalance.date,
    },
    closing: statement.closingBalance && {
      amount: formatMoney(statement.closingBalance.amount),
      date: statement.closingBalance.date,
    },
    balanceCheck: s.balanceCheck,
    lines: statement.lines.length,
    newLines,
    notBooked: statement.lines.length - booked.length,
  };
}

/** A statement line as JSON (amounts as exact decimal strings). */
export function lineJson(line: StatementLine): Record<string, unknown> {
  return {
    ...line,
    amount: toMoneyJson(line.amount),
    ...(line.instructedAmount === undefined ? {} : { instructedAmount: toMoneyJson(line.instructedAmount) }),
    ...(line.charges === undefined ? {} : { charges: toMoneyJson(line.charges) }),
  };
}

async function findImportBySha(db: Db, sha256: string): Promise<ImportSummary | undefined> {
  const r = await db.query<{ summary: ImportSummary }>(
    `SELECT summary FROM statement_imports WHERE content_sha256 = $1`,
    [sha256],
  );
  return r.rows[0]?.summary;
}

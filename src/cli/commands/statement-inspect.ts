/**
 * `kontor statement inspect FILE [--json] [--account ID | --profile FILE]`: parses and
 * balance-checks a bank file without importing it. A CSV is read with the csvProfile of the
 * configured account (`--account`) or with a profile file (`--profile`).
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { type Statement, type StatementLine, formatMoney, maskIban } from '../../domain/index.ts';
import {
  type BalanceCheck,
  type ParseStatementsOptions,
  type StatementFormat,
  type StatementSummary,
  StatementParseError,
  checkBalance,
  detectFormat,
  formatStatementsJson,
  readStatementEvents,
} from '../../formats/index.ts';
import { ErrorCodes } from '../../domain/index.ts';
import { type KontorConfig, loadConfig } from '../../config/index.ts';
import { action } from '../run.ts';
import type { RegisterCommand } from './index.ts';

/** Options of `statement inspect`. */
export interface StatementInspectOptions {
  json?: boolean;
  format?: StatementFormat;
  /** A CSV profile file (YAML or JSON); `csvProfile` is its older name. */
  profile?: string;
  csvProfile?: string;
  /** Id of a configured bank account: its csvProfile and IBAN/account number read a CSV. */
  account?: string;
  /** kontor.yaml to find `account` in (default: KONTOR_CONFIG or ./kontor.yaml). */
  config?: string;
  /** The loaded configuration (tests pass it instead of a file). */
  loadedConfig?: KontorConfig;
  maxBytes?: number;
}

/** Where the command writes: stdout for results, stderr for the rejection. */
export interface InspectOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

function describeAccount(s: StatementSummary): string {
  const a = s.account;
  // Account numbers are as sensitive as IBANs in logs and terminals: mask both.
  return `${maskIban(a.iban ?? a.accountNumber ?? '?')} ${a.currency}`;
}

function describeCheck(check: BalanceCheck): string {
  switch (check.status) {
    case 'balanced':
      return `balanced (${formatMoney(check.opening)} + ${formatMoney(check.bookedTotal)} = ${formatMoney(check.closing)})`;
    case 'unbalanced':
      return `UNBALANCED: ${check.error.message}`;
    case 'not-applicable':
      return `nothing to check: ${check.reason}`;
    default: {
      const never: never = check;
      return String(never);
    }
  }
}

async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(8192);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Inspects one file; returns the exit code (0 fine, 1 rejected or unbalanced). */
export async function inspectStatementFile(
  path: string,
  options: StatementInspectOptions,
  output: InspectOutput,
): Promise<number> {
  const format = options.format ?? detectFormat(await readHead(path));
  if (format === undefined) {
    throw new StatementParseError(
      `cannot tell the format of ${path}; pass --format camt|mt940|csv`,
      {},
      { code: ErrorCodes.STATEMENT_FORMAT_UNKNOWN },
    );
  }
  const parseOptions: ParseStatementsOptions = {};
  if (options.maxBytes !== undefined) parseOptions.maxBytes = options.maxBytes;
  if (format === 'csv') {
    const profileFile = options.profile ?? options.csvProfile;
    const account =
      options.account === undefined
        ? undefined
        : (options.loadedConfig ?? loadConfig(options.config).config).bankAccounts.find(
            (a) => a.id === options.account,
          );
    if (options.account !== undefined && account === undefined)
      throw new StatementParseError(
        `there is no bank account "${options.account}" in the configuration`,
        {},
        { code: ErrorCodes.STATEMENT_ACCOUNT_UNKNOWN },
      );
    if (profileFile === undefined && account?.csvProfile === undefined)
      throw new StatementParseError(
        account === undefined
          ? 'a CSV needs --account ID (a configured account with a csvProfile) or --profile FILE (YAML or JSON)'
          : `bank account ${account.id} has no csvProfile in the configuration; add one or pass --profile FILE`,
        {},
        { code: ErrorCodes.STATEMENT_FORMAT_UNKNOWN },
      );
    parseOptions.csv = {
      profile:
        profileFile === undefined ? account!.csvProfile! : parseYaml(await readFile(profileFile, 'utf8')),
      account:
        account?.iban !== undefined
          ? { iban: account.iban }
          : { accountNumber: account?.accountNumber ?? 'unknown' },
      statementId: basename(path),
    };
  }
  const events = readStatementEvents(
    format,
    createReadStream(path, { highWaterMark: 64 * 1024 }),
    parseOptions,
  );
  const statements: Statement[] = [];
  let lines: StatementLine[] = [];
  let firstDay: string | undefined;
  let lastDay: string | undefined;
  let failure: BalanceCheck | undefined;
  let count = 0;
  for await (const event of events) {
    if (event.type === 'statement-start') {
      lines = [];
      firstDay = undefined;
      lastDay = undefined;
    } else if (event.type === 'line') {
      // Only --json needs the lines; the summary keeps memory flat for huge files.
      if (options.json === true) lines.push(event.line);
      const day = event.line.bookingDate;
      if (firstDay === undefined || day < firstDay) firstDay = day;
      if (lastDay === undefined || day > lastDay) lastDay = day;
    } else {
      count++;
      const s = event.summary;
      const check = checkBalance(s);
      if (check.status === 'unbalanced') failure ??= check;
      if (options.json === true) {
        const { lineCount: _n, bookedTotal: _t, otherCurrencies: _o, ...head } = s;
        statements.push({ ...head, lines });
        continue;
      }
      const from = s.openingBalance?.date ?? firstDay ?? '?';
      const to = s.closingBalance?.date ?? lastDay ?? '?';
      const balance = (b: StatementSummary['openingBalance']) =>
        b === undefined ? '—' : `${formatMoney(b.amount)} ${b.amount.currency} on ${b.date}`;
      output.out(
        [
          `${s.kind} ${s.statementId} (${s.format})`,
          `  account:  ${describeAccount(s)}`,
          `  period:   ${from} … ${to}`,
          `  opening:  ${balance(s.openingBalance)}`,
          `  closing:  ${balance(s.closingBalance)}`,
          `  entries:  ${s.lineCount}`,
          `  check:    ${describeCheck(check)}`,
          '',
        ].join('\n'),
      );
    }
  }
  if (options.json === true) output.out(formatStatementsJson(statements));
  else output.out(`${count} statement(s)\n`);
  if (failure !== undefined && failure.status === 'unbalanced') {
    output.err(`kontor: ${failure.error.message} [${failure.error.code}]\n`);
    return 1;
  }
  return 0;
}

/** Registers `kontor statement inspect`. */
export const registerStatementInspect: RegisterCommand = (program: Command) => {
  const group =
    program.commands.find((c) => c.name() === 'statement') ??
    program.command('statement').description('bank statement files');
  group
    .command('inspect')
    .description(
      'parse and balance-check a bank statement file (camt.05x, MT940/942, CSV) without importing it',
    )
    .argument('<file>', 'the bank file')
    .option('--json', 'print the canonical statements as JSON')
    .option('--format <format>', 'camt | mt940 | csv (default: detected)')
    .option('--account <id>', 'configured bank account of a CSV file: its csvProfile reads the file')
    .option('--profile <file>', "CSV mapping profile (YAML or JSON) instead of the account's")
    .option('--csv-profile <file>', 'same as --profile')
    .option('-c, --config <file>', 'configuration file (for --account)')
    .option('--max-bytes <n>', 'reject files larger than this', (v) => Number.parseInt(v, 10))
    .action(
      action(async (file: string, opts: StatementInspectOptions) => {
        const config = opts.config ?? program.opts<{ config?: string }>().config;
        const code = await inspectStatementFile(file, config === undefined ? opts : { ...opts, config }, {
          out: (t) => process.stdout.write(t),
          err: (t) => process.stderr.write(t),
        });
        if (code !== 0) process.exitCode = code;
      }),
    );
};

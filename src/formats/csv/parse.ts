/** Streaming CSV bank-export reader driven by a {@link CsvProfile}. */
import {
  type Counterparty,
  type Money,
  type StatementLine,
  isIban,
  money,
  parseMoney,
} from '../../domain/index.ts';
import { StatementParseError, toParseError } from '../errors.ts';
import { isIbanQuick } from '../iban-check.ts';
import { LineTotals, type StatementEvent, type StatementHead } from '../events.ts';
import { type ParseOptions, type StatementInput, readChunks, readLines } from '../input.ts';
import { type CsvColumn, type CsvProfile, type CsvProfileInput, csvProfileSchema } from './profile.ts';

/** Options of the CSV reader: the profile, and the statement's identity (a CSV has none of its own). */
export interface CsvParseOptions extends ParseOptions {
  profile: CsvProfileInput;
  statementId?: string;
  account?: { iban?: string; accountNumber?: string };
}

function splitRecord(record: string, delimiter: string, quote: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < record.length; i++) {
    const c = record[i]!;
    if (quoted) {
      if (c === quote) {
        if (record[i + 1] === quote) {
          field += quote;
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === quote && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === delimiter) {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

function countQuotes(text: string, quote: string): number {
  let n = 0;
  for (const c of text) if (c === quote) n++;
  return n;
}

const datePatterns = new Map<string, { regex: RegExp; order: ('Y' | 'y' | 'M' | 'D')[] }>();

function datePattern(format: string): { regex: RegExp; order: ('Y' | 'y' | 'M' | 'D')[] } {
  let pattern = datePatterns.get(format);
  if (pattern === undefined) {
    const order: ('Y' | 'y' | 'M' | 'D')[] = [];
    let source = '^';
    for (let i = 0; i < format.length;) {
      const rest = format.slice(i);
      const token = /^(YYYY|YY|MM|DD|M|D)/.exec(rest)?.[1];
      if (token === undefined) {
        source += format[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        i++;
        continue;
      }
      order.push(token === 'YYYY' ? 'Y' : token === 'YY' ? 'y' : token[0] === 'M' ? 'M' : 'D');
      source += token === 'YYYY' ? '(\\d{4})' : token.length === 2 ? '(\\d{2})' : '(\\d{1,2})';
      i += token.length;
    }
    pattern = { regex: new RegExp(source), order };
    datePatterns.set(format, pattern);
  }
  return pattern;
}

function readDate(text: string, format: string): string {
  const value = text.trim();
  const { regex, order } = datePattern(format);
  const m = regex.exec(value);
  const part = (t: 'Y' | 'y' | 'M' | 'D'): string | undefined => {
    const at = order.indexOf(t);
    return at === -1 || m === null ? undefined : m[at + 1];
  };
  const yy = part('y');
  const year = part('Y') ?? (yy === undefined ? undefined : `20${yy}`);
  const mm = part('M')?.padStart(2, '0');
  const dd = part('D')?.padStart(2, '0');
  if (year === undefined || mm === undefined || dd === undefined) {
    throw new Error(`"${text}" does not match the date format ${format}`);
  }
  const date = new Date(`${year}-${mm}-${dd}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== Number(dd))
    throw new Error(`"${text}" is not a calendar date`);
  return `${year}-${mm}-${dd}`;
}

function readAmount(text: string, currency: string, profile: CsvProfile): Money {
  let value = text.trim().replace(/^\+/, '');
  if (profile.thousandsSeparator !== '') value = value.split(profile.thousandsSeparator).join('');
  return parseMoney(value, currency, { decimalSeparator: profile.decimalSeparator });
}

/** Streams the one statement of a CSV export as canonical events. */
export async function* readCsvEvents(
  input: StatementInput,
  options: CsvParseOptions,
): AsyncGenerator<StatementEvent> {
  const parsed = csvProfileSchema.safeParse(options.profile);
  if (!parsed.success)
    throw new StatementParseError(
      `invalid CSV profile: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const profile = parsed.data;
  let header: string[] = [];
  const resolve = (column: CsvColumn): number => {
    if (typeof column === 'number') return column;
    const at = header.findIndex((h) => h.trim() === column);
    if (at === -1) throw new Error(`column "${column}" is not in the header (${header.join(', ')})`);
    return at;
  };
  const totals = new LineTotals();
  let head: StatementHead | undefined;
  let pending = '';
  let pendingLine = 0;
  let rows = 0;
  let rowAccount: string | undefined;

  const makeHead = (): StatementHead => {
    const account: StatementHead['account'] = { currency: profile.currency };
    const id = options.account?.iban ?? options.account?.accountNumber ?? rowAccount;
    if (id === undefined)
      throw new StatementParseError(
        'the CSV names no account: give one in the options or map an account column',
      );
    const compact = id.replace(/\s+/g, '').toUpperCase();
    if (isIban(compact)) account.iban = compact as StatementHead['account']['iban'];
    else account.accountNumber = id.trim();
    return { statementId: options.statementId ?? 'csv', kind: 'statement', format: 'csv', account };
  };

  // Rows with a balance: the first and the last, for the opening and the closing balance.
  let firstRow: { balance: bigint; amount: bigint; date: string } | undefined;
  let lastRow: { balance: bigint; amount: bigint; date: string } | undefined;
  let rowsWithoutBalance = 0;

  const readRow = (cells: string[], number: number): StatementLine | undefined => {
    const c = profile.columns;
    const cell = (column: CsvColumn | undefined): string | undefined => {
      if (column === undefined) return undefined;
      const v = cells[resolve(column)];
      return v === undefined || v.trim() === '' ? undefined : v.trim();
    };
    if (
      profile.skipWhen !== undefined &&
      profile.skipWhen.values.includes(cell(profile.skipWhen.column) ?? '')
    )
      return undefined;
    const currency = profile.currency;
    let amount: Money;
    if (c.amount !== undefined) {
      amount = readAmount(cell(c.amount) ?? '0', currency, profile);
      if (c.creditDebit !== undefined) {
        const mark = cell(c.creditDebit.column) ?? '';
        const abs = amount.amount < 0n ? -amount.amount : amount.amount;
        if (c.creditDebit.debit.includes(mark)) amount = money(-abs, currency);
        else if (c.creditDebit.credit.includes(mark)) amount = money(abs, currency);
        else
          throw new Error(
            `credit/debit marker "${mark}" is neither ${c.creditDebit.credit.join('/')} nor ${c.creditDebit.debit.join('/')}`,
          );
      }
    } else {
      const debit = readAmount(cell(c.debit) ?? '0', currency, profile).amount;
      const credit = readAmount(cell(c.credit) ?? '0', currency, profile).amount;
      amount = money(credit - (debit < 0n ? -debit : debit), currency);
    }
    if (profile.invertSign) amount = money(-amount.amount, currency);
    const rowCurrency = cell(c.currency);
    if (rowCurrency !== undefined && rowCurrency !== currency && c.instructedCurrency === undefined) {
      if (profile.otherCurrencyRows === 'skip') return undefined;
      throw new Error(
        `row is in ${rowCurrency} but the profile's account currency is ${currency} (otherCurrencyRows: skip reads multi-currency exports)`,
      );
    }
    const line: StatementLine = {
      entryRef: cell(c.reference) ?? `${options.statementId ?? 'csv'}/${number}`,
      status: 'booked',
      bookingDate: readDate(cell(c.bookingDate) ?? '', profile.dateFormat),
      amount,
    };
    const valueDate = cell(c.valueDate);
    if (valueDate !== undefined) line.valueDate = readDate(valueDate, profile.dateFormat);
    const remittance = (c.remittanceInfo ?? [])
      .map((col) => cell(col))
      .filter((v): v is string => v !== undefined);
    if (remittance.length > 0) line.remittanceInfo = remittance.join(' ').replace(/\s+/g, ' ');
    const counterparty: Counterparty = {};
    const names = c.counterpartyName === undefined ? [] : [c.counterpartyName].flat();
    const name = names.map((col) => cell(col)).find((v) => v !== undefined);
    if (name !== undefined) counterparty.name = name;
    const acct = cell(c.counterpartyAccount)?.replace(/\s+/g, '').toUpperCase();
    if (acct !== undefined && isIbanQuick(acct)) counterparty.iban = acct as Counterparty['iban'];
    else if (acct !== undefined) counterparty.accountNumber = acct;
    if (Object.keys(counterparty).length > 0) line.counterparty = counterparty;
    const instructedCurrency = cell(c.instructedCurrency);
    const instructed = cell(c.instructedAmount);
    if (instructedCurrency !== undefined && instructed !== undefined && instructedCurrency !== currency) {
      const value = readAmount(instructed, instructedCurrency, profile);
      // Like camt's InstdAmt, the instructed amount is unsigned: the line's amount carries the sign.
      if (value.amount !== 0n)
        line.instructedAmount = money(value.amount < 0n ? -value.amount : value.amount, value.currency);
    }
    const fee = cell(c.charges);
    if (fee !== undefined) {
      const charges = readAmount(fee, currency, profile);
      if (charges.amount !== 0n)
        line.charges = money(charges.amount < 0n ? -charges.amount : charges.amount, currency);
    }
    if (c.balance !== undefined) {
      const text = cell(c.balance);
      if (text === undefined) rowsWithoutBalance++;
      else {
        const balance = readAmount(text, currency, profile).amount;
        const row = {
          balance: profile.invertSign ? -balance : balance,
          amount: amount.amount,
          date: line.bookingDate,
        };
        firstRow ??= row;
        lastRow = row;
      }
    }
    if (rowAccount === undefined) rowAccount = cell(c.account);
    return line;
  };

  const withBalances = (h: StatementHead): StatementHead => {
    // A row without a balance leaves a gap: no balances rather than wrong ones.
    if (firstRow === undefined || lastRow === undefined || rowsWithoutBalance > 0) return h;
    const [oldest, newest] = profile.rowOrder === 'oldest-first' ? [firstRow, lastRow] : [lastRow, firstRow];
    return {
      ...h,
      openingBalance: { amount: money(oldest.balance - oldest.amount, profile.currency), date: oldest.date },
      closingBalance: { amount: money(newest.balance, profile.currency), date: newest.date },
    };
  };

  const queue: StatementEvent[] = [];
  for await (const batch of readLines(readChunks(input, options.maxBytes), profile.encoding)) {
    for (const { text, number } of batch) {
      if (pending === '') pendingLine = number;
      const record = pending === '' ? text : `${pending}\n${text}`;
      // A quoted field may hold a line break: keep reading until the quotes pair up.
      if (countQuotes(record, profile.quote) % 2 === 1) {
        pending = record;
        continue;
      }
      pending = '';
      if (record.trim() === '') continue;
      const cells = splitRecord(record, profile.delimiter, profile.quote);
      rows++;
      if (rows <= profile.headerRows) {
        header = cells.map((h) => h.replace(/^\uFEFF/, ''));
        continue;
      }
      try {
        const line = readRow(cells, pendingLine);
        if (line === undefined) continue;
        if (head === undefined) {
          head = makeHead();
          queue.push({ type: 'statement-start', head });
        }
        totals.addLine(line);
        queue.push({ type: 'line', line });
      } catch (e) {
        throw toParseError(e, { line: pendingLine });
      }
    }
    yield* queue.splice(0, queue.length);
  }
  if (pending !== '')
    throw new StatementParseError('the file ends inside a quoted field', { line: pendingLine });
  if (head === undefined) {
    head = makeHead();
    queue.push({ type: 'statement-start', head });
  }
  queue.push({ type: 'statement-end', summary: totals.summarize(withBalances(head)) });
  yield* queue.splice(0, queue.length);
}

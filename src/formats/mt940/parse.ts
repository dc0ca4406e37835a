/**
 * Streaming SWIFT MT940 (statement) and MT942 (interim report) reader, line by line, for the
 * dialects banks actually send: SWIFT block headers, bank preambles, CRLF/LF, UTF-8 or cp1252.
 */
import {
  type Balance,
  type Money,
  type StatementLine,
  isIban,
  money,
  parseMoney,
} from '../../domain/index.ts';
import { StatementParseError, toParseError } from '../errors.ts';
import { LineTotals, type StatementEvent, type StatementHead } from '../events.ts';
import { type ParseOptions, type StatementInput, readChunks, readLines } from '../input.ts';
import { readTransactionInfo } from './details.ts';

const TAG = /^:([0-9]{2}[A-Z]?|NS) ?:/;
const TAG_LIKE = /^:[0-9A-Z]{1,5}:/;
const KNOWN_TAGS = new Set([
  '20',
  '21',
  '25',
  '28',
  '28C',
  '60F',
  '60M',
  '61',
  '86',
  '62F',
  '62M',
  '64',
  '65',
  '65F',
  '34F',
  '13',
  '13D',
  '90D',
  '90C',
  'NS',
]);
// Rabobank and others put the message type on its own line before :20:.
const HEADER_TAGS = new Set([':940:', ':942:']);
const BALANCE = /^([CD])(\d{6})([A-Z]{3})(\d[\d,.]*)$/;
const STATEMENT_LINE = /^(\d{6})(\d{4})?(R?[CD])([A-Z])?(\d[\d,]*)\s?([NFS][A-Z0-9]{3})?(.*)$/;

interface Field {
  tag: string;
  lines: string[];
  line: number;
}

interface Draft {
  id?: string;
  sequence?: string;
  account?: string;
  currency?: string;
  opening?: Balance;
  closing?: Balance;
  available?: Balance;
  balances: (Balance & { type: string })[];
  isReport: boolean;
  createdAt?: string;
  started: boolean;
  lineCount: number;
  totals: LineTotals;
  pending?: { line: StatementLine; number: number };
  sawLines: boolean;
  startLine: number;
}

function parseAmount(text: string, currency: string, negative: boolean): Money {
  // Banks write "380115," for 380115.00 and pad with leading zeros; both are plain decimals.
  const normal = text.endsWith(',') || text.endsWith('.') ? `${text}0` : text;
  // Old Rabobank exports use "." although SWIFT prescribes ",".
  const separator = normal.includes(',') ? ',' : '.';
  const value = parseMoney(normal, currency, { decimalSeparator: separator });
  return negative ? money(-value.amount, value.currency) : value;
}

function toIsoDate(yymmdd: string): string {
  const yy = Number(yymmdd.slice(0, 2));
  // SWIFT years are two digits; 80–99 are read as 19xx like most bank software does.
  const year = yy >= 80 ? 1900 + yy : 2000 + yy;
  return checkDate(year, Number(yymmdd.slice(2, 4)), Number(yymmdd.slice(4, 6)));
}

function checkDate(year: number, month: number, day: number): string {
  const days = [
    31,
    year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  if (month < 1 || month > 12 || day < 1 || day > days[month - 1]!) {
    throw new Error(
      `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')} is not a calendar date`,
    );
  }
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function bookingDateOf(valueDate: string, mmdd: string): string {
  const valueYear = Number(valueDate.slice(0, 4));
  const valueMonth = Number(valueDate.slice(5, 7));
  const month = Number(mmdd.slice(0, 2));
  // The entry date has no year: take the value date's, across a year boundary when months are far apart.
  let year = valueYear;
  if (month - valueMonth > 6) year--;
  else if (valueMonth - month > 6) year++;
  return checkDate(year, month, Number(mmdd.slice(2, 4)));
}

/** Streams canonical statement events out of an MT940 or MT942 file. */
export async function* readMt940Events(
  input: StatementInput,
  options: ParseOptions = {},
): AsyncGenerator<StatementEvent> {
  const queue: StatementEvent[] = [];
  let draft: Draft | undefined;
  let field: Field | undefined;
  let statements = 0;
  let lineNumber = 0;

  const fail = (reason: string, line = field?.line ?? lineNumber): never => {
    throw new StatementParseError(reason, { line });
  };

  const newDraft = (): Draft => {
    statements++;
    return {
      balances: [],
      isReport: false,
      started: false,
      lineCount: 0,
      totals: new LineTotals(),
      sawLines: false,
      startLine: field?.line ?? lineNumber,
    };
  };

  const headOf = (d: Draft): StatementHead => {
    if (d.account === undefined) fail(`statement ${d.id ?? statements} has no account (:25:)`, d.startLine);
    if (d.currency === undefined)
      fail(
        `statement ${d.id ?? statements} has no currency (no :60F: opening balance or :34F: floor limit)`,
        d.startLine,
      );
    const raw = d.account!.trim();
    // Banks write "NL34RABO0142623393 EUR", "NL77INGB0574908765EUR", "NL92 KNAB 0123 4567 89", "INGBNL2A/NL…".
    const bare = raw.replace(/^[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\//, '');
    const candidates = [
      bare.replace(/\s+/g, ''),
      bare.replace(/\s*[A-Z]{3}$/, '').replace(/\s+/g, ''),
      bare.split(/\s+/)[0] ?? '',
    ];
    const iban = candidates.find((c) => c !== '' && isIban(c));
    const account: StatementHead['account'] = { currency: d.currency! };
    if (iban !== undefined) account.iban = iban.toUpperCase() as StatementHead['account']['iban'];
    else account.accountNumber = raw.replace(/\s+[A-Z]{3}$/, '');
    const kind = d.isReport ? 'report' : 'statement';
    const head: StatementHead = {
      statementId: d.id ?? `mt94x/${statements}`,
      kind,
      format: d.isReport ? 'mt942' : 'mt940',
      account,
    };
    if (d.sequence !== undefined) head.sequenceNumber = d.sequence;
    if (d.createdAt !== undefined) head.createdAt = d.createdAt;
    if (d.opening !== undefined) head.openingBalance = d.opening;
    if (d.closing !== undefined) head.closingBalance = d.closing;
    if (d.available !== undefined) head.availableBalance = d.available;
    if (d.balances.length > 0) head.balances = d.balances;
    return head;
  };

  const flushLine = (d: Draft): void => {
    if (d.pending === undefined) return;
    if (!d.started) {
      d.started = true;
      queue.push({ type: 'statement-start', head: headOf(d) });
    }
    d.totals.addLine(d.pending.line);
    queue.push({ type: 'line', line: d.pending.line });
    d.pending = undefined;
  };

  const finish = (): void => {
    if (draft === undefined) return;
    const d = draft;
    draft = undefined;
    flushLine(d);
    if (!d.isReport && d.closing === undefined)
      fail(`statement ${d.id ?? statements} ends without a closing balance (:62F:)`, d.startLine);
    if (!d.started) queue.push({ type: 'statement-start', head: headOf(d) });
    queue.push({ type: 'statement-end', summary: d.totals.summarize(headOf(d)) });
  };

  const readBalance = (d: Draft, f: Field): Balance & { type: string } => {
    // mBank glues the end-of-message dash to the last balance.
    const text = f.lines.join('').trim().replace(/-\}?$/, '');
    const m = BALANCE.exec(text);
    if (m === null) fail(`:${f.tag}: "${text}" is not a balance (expected C|D, YYMMDD, currency, amount)`);
    const [, mark, date, currency, amount] = m!;
    d.currency ??= currency;
    return { type: f.tag, amount: parseAmount(amount!, currency!, mark === 'D'), date: toIsoDate(date!) };
  };

  const apply = (f: Field): void => {
    if (f.tag === '20') {
      finish();
      draft = newDraft();
      draft.id = f.lines.join('').trim() || undefined;
      return;
    }
    if (f.tag === 'NS' || f.tag === '21' || f.tag === '90D' || f.tag === '90C') return;
    if (draft === undefined) draft = newDraft();
    const d = draft;
    switch (f.tag) {
      case '25':
        if (d.sawLines) fail(':25: (account) after the statement lines; a new statement needs a new :20:');
        d.account = f.lines.join(' ').trim();
        return;
      case '28':
      case '28C':
        d.sequence = f.lines.join('').trim();
        return;
      case '60F':
      case '60M': {
        const b = readBalance(d, f);
        d.opening = { amount: b.amount, date: b.date };
        d.balances.push(b);
        return;
      }
      case '62F':
      case '62M': {
        flushLine(d);
        const b = readBalance(d, f);
        d.closing = { amount: b.amount, date: b.date };
        d.balances.push(b);
        return;
      }
      case '64':
      case '65':
      case '65F': {
        flushLine(d);
        // Forward balances are informational; some banks fill them with garbage ("Dnullnull7414,3").
        if (f.tag !== '64' && !BALANCE.test(f.lines.join('').trim().replace(/-\}?$/, ''))) return;
        const b = readBalance(d, f);
        if (f.tag === '64') d.available = { amount: b.amount, date: b.date };
        d.balances.push(b);
        return;
      }
      case '34F': {
        d.isReport = d.opening === undefined;
        const m = /^([A-Z]{3})/.exec(f.lines.join('').trim());
        if (m !== null) d.currency ??= m[1];
        return;
      }
      case '13':
      case '13D': {
        d.isReport = d.opening === undefined;
        const m = /^(\d{6})(\d{2})(\d{2})([+-]\d{4})?/.exec(f.lines.join('').trim());
        if (m !== null) {
          const offset = m[4] === undefined ? '' : `${m[4].slice(0, 3)}:${m[4].slice(3)}`;
          d.createdAt = `${toIsoDate(m[1]!)}T${m[2]}:${m[3]}:00${offset}`;
        }
        return;
      }
      case '61':
        readStatementLine(d, f);
        return;
      case '86':
        if (d.pending !== undefined) enrich(d.pending.line, f.lines.join('\n'));
        // A :86: without its :61: describes the whole statement (Danske Bank, Sparkasse); it is not a line.
        return;
      default:
        fail(`unknown tag :${f.tag}:`);
    }
  };

  const readStatementLine = (d: Draft, f: Field): void => {
    flushLine(d);
    d.sawLines = true;
    if (d.currency === undefined) fail(':61: before any opening balance (:60F:) that gives the currency');
    const first = f.lines[0]!.trim();
    const m = STATEMENT_LINE.exec(first);
    if (m === null) fail(`:61: "${first}" is not a statement line (expected YYMMDD[MMDD]C|D|RC|RDamount…)`);
    const [, valueYmd, entryMd, mark, , amountText, type, rest = ''] = m!;
    const valueDate = toIsoDate(valueYmd!);
    const bookingDate = entryMd === undefined ? valueDate : bookingDateOf(valueDate, entryMd);
    // RC reverses a credit (money leaves), RD reverses a debit (money comes back).
    const negative = mark === 'D' || mark === 'RC';
    const amount = parseAmount(amountText!, d.currency!, negative);
    const [customerRef = '', bankRef] = rest.split('//', 2);
    d.lineCount++;
    const line: StatementLine = {
      entryRef: bankRef?.trim() || `${d.id ?? statements}/${d.sequence ?? statements}/${d.lineCount}`,
      status: d.isReport ? 'pending' : 'booked',
      bookingDate,
      valueDate,
      amount,
    };
    if (bankRef !== undefined && bankRef.trim() !== '') line.accountServicerRef = bankRef.trim();
    if (customerRef.trim() !== '' && customerRef.trim() !== 'NONREF') line.endToEndId = customerRef.trim();
    if (type !== undefined) line.bankTransactionCode = type;
    const supplementary = f.lines.slice(1).join(' ').trim();
    if (supplementary !== '') line.bookingText = supplementary;
    d.pending = { line, number: f.line };
  };

  const enrich = (line: StatementLine, raw: string): void => {
    const info = readTransactionInfo(raw);
    if (info.counterparty !== undefined) line.counterparty = info.counterparty;
    if (info.remittanceInfo !== undefined) line.remittanceInfo = info.remittanceInfo;
    if (info.creditorReference !== undefined) line.creditorReference = info.creditorReference;
    if (info.endToEndId !== undefined) line.endToEndId = info.endToEndId;
    if (info.bookingText !== undefined) line.bookingText = info.bookingText;
    if (info.transactionCode !== undefined && line.bankTransactionCode !== undefined)
      line.bankTransactionCode += `/${info.transactionCode}`;
  };

  const closeField = (): void => {
    if (field === undefined) return;
    const f = field;
    field = undefined;
    try {
      apply(f);
    } catch (e) {
      throw toParseError(e, { line: f.line });
    }
    field = undefined;
  };

  let sawTag = false;
  for await (const batch of readLines(readChunks(input, options.maxBytes), options.encoding ?? 'auto')) {
    for (const { text: raw, number } of batch) {
      lineNumber = number;
      if (queue.length > 0) yield* queue.splice(0, queue.length);
      // DOS-era exports end messages with Ctrl-Z, FIN transfers with ETX: control characters are noise.
      let text = raw.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
      if (text.startsWith('{')) {
        // SWIFT FIN envelope: {1:…}{2:…}{3:{…}}{4: opens a message, -} closes it.
        const blocks = /^(?:\{[1-35]:(?:[^{}]|\{[^{}]*\})*\})*\{4:/.exec(text);
        if (blocks !== null) {
          closeField();
          finish();
          text = text.slice(blocks[0].length);
        } else if (/^(?:\{[1-35]:(?:[^{}]|\{[^{}]*\})*\})+$/.test(text.trim())) {
          closeField();
          finish();
          continue;
        }
      }
      const trimmed = text.trimEnd();
      // ING wraps :86: text so that a line can be a lone "-"; before the closing balance it is text.
      const dashInText = trimmed === '-' && field?.tag === '86' && draft?.closing === undefined;
      if (
        !dashInText &&
        (trimmed === '-' || trimmed === '-}' || trimmed === '}' || /^-\}?\{5:.*\}$/.test(trimmed))
      ) {
        closeField();
        finish();
        continue;
      }
      const tag = TAG.exec(text);
      // Inside :86: a wrapped line may start with ":KO:" or ":00:" that is text, not a tag.
      const isText = field?.tag === '86' && (tag === null || !KNOWN_TAGS.has(tag[1]!));
      if (tag !== null && !isText) {
        closeField();
        sawTag = true;
        if (!KNOWN_TAGS.has(tag[1]!))
          throw new StatementParseError(`unknown tag :${tag[1]}:`, { line: number });
        field = { tag: tag[1]!, lines: [text.slice(tag[0].length)], line: number };
        continue;
      }
      if (!isText && TAG_LIKE.test(text) && !HEADER_TAGS.has(trimmed)) {
        throw new StatementParseError(`unknown tag ${TAG_LIKE.exec(text)![0]}`, { line: number });
      }
      if (field !== undefined) {
        if (trimmed !== '') field.lines.push(trimmed);
        continue;
      }
      // Bank preambles (ABNANL2A, "0000 01INGBNL2AXXXX", Danske's cover text) precede the first tag.
    }
  }
  closeField();
  finish();
  if (!sawTag || statements === 0)
    throw new StatementParseError('no MT940/MT942 statement found (no :20: … :62F: block)', {
      line: lineNumber,
    });
  yield* queue.splice(0, queue.length);
}

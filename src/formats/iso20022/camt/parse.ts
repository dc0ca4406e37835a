/**
 * Streaming ISO 20022 camt.052 / camt.053 / camt.054 reader (every version 001.01 … 001.12) on top
 * of saxes: the file is never held in memory, only the entry being read.
 */
import { SaxesParser } from 'saxes';
import {
  type Balance,
  type Bic,
  type Counterparty,
  ErrorCodes,
  type Money,
  type StatementLine,
  type TransactionDetail,
  currencyExponent,
  isCurrencyCode,
  money,
  parseBic,
  parseMoney,
} from '../../../domain/index.ts';
import { StatementParseError, toParseError } from '../../errors.ts';
import { isIbanQuick } from '../../iban-check.ts';
import { createChunkDecoder } from './chunk-decoder.ts';
import { LineTotals, type StatementEvent, type StatementHead } from '../../events.ts';
import { type ParseOptions, type StatementInput, readChunks } from '../../input.ts';

const TEXT_PIECE_BYTES = 16 * 1024;

const NAMESPACE = /^urn:iso:std:iso:20022:tech:xsd:(camt\.05[234])\.001\.(\d{2})$/;

const CONTAINERS: Record<string, { kind: StatementHead['kind']; child: string; message: string }> = {
  BkToCstmrStmt: { kind: 'statement', child: 'Stmt', message: 'camt.053' },
  BkToCstmrAcctRpt: { kind: 'report', child: 'Rpt', message: 'camt.052' },
  BkToCstmrDbtCdtNtfctn: { kind: 'notification', child: 'Ntfctn', message: 'camt.054' },
};

const STATUS: Record<string, StatementLine['status']> = {
  BOOK: 'booked',
  PDNG: 'pending',
  INFO: 'info',
  FUTR: 'pending',
};

interface AmountText {
  value: string;
  currency: string;
}

interface PartyDraft {
  name?: string;
  iban?: string;
  other?: string;
  bic?: string;
}

interface TxDraft {
  amount?: AmountText;
  creditDebit?: string;
  endToEndId?: string;
  instructionId?: string;
  accountServicerRef?: string;
  debtor: PartyDraft;
  creditor: PartyDraft;
  remittance: string[];
  creditorReference?: string;
  instructedAmount?: AmountText;
  exchangeRate?: string;
  additionalInfo?: string;
}

interface EntryDraft {
  amount?: AmountText;
  creditDebit?: string;
  status?: string;
  bookingDate?: string;
  valueDate?: string;
  entryRef?: string;
  accountServicerRef?: string;
  domain?: string;
  family?: string;
  subFamily?: string;
  proprietaryCode?: string;
  charges?: AmountText;
  chargesSum: bigint;
  chargesCurrency?: string;
  instructedAmount?: AmountText;
  exchangeRate?: string;
  additionalInfo?: string;
  txs: TxDraft[];
}

interface BalanceDraft {
  type?: string;
  amount?: AmountText;
  creditDebit?: string;
  date?: string;
}

interface StatementDraft {
  id?: string;
  sequence?: string;
  createdAt?: string;
  iban?: string;
  otherId?: string;
  currency?: string;
  name?: string;
  bic?: string;
  balances: (Balance & { type: string })[];
  started: boolean;
  entries: number;
  totals: LineTotals;
}

/**
 * A node of the element-path trie of one context; `field` (non-zero) names the value captured at
 * this element. Element paths resolve by one Map lookup per element and a value lands in its
 * field through one integer switch: no path strings are built while parsing.
 */
interface RouteNode {
  children: Map<string, RouteNode>;
  field: number;
  /** The children again as parallel arrays: a scan of a few names beats hashing each new tag name. */
  childNames: string[];
  childNodes: RouteNode[];
}

function newRouteNode(field = 0): RouteNode {
  return { children: new Map(), field, childNames: [], childNodes: [] };
}

/** Fills the arrays of every node from its map, once the trie is built. */
function compileRoutes(node: RouteNode, done = new Set<RouteNode>()): void {
  if (done.has(node)) return;
  done.add(node);
  node.childNames = [...node.children.keys()];
  node.childNodes = [...node.children.values()];
  for (const child of node.childNodes) compileRoutes(child, done);
}

function childOf(node: RouteNode, name: string): RouteNode | undefined {
  const names = node.childNames;
  for (let i = 0; i < names.length; i++) if (names[i] === name) return node.childNodes[i];
  return undefined;
}

function buildRoutes(fields: Readonly<Record<string, number>>): RouteNode {
  const root = newRouteNode();
  for (const [key, field] of Object.entries(fields)) {
    let node = root;
    for (const part of key.split('/')) {
      let next = node.children.get(part);
      if (next === undefined) {
        next = newRouteNode();
        node.children.set(part, next);
      }
      node = next;
    }
    node.field = field;
  }
  return root;
}

// Field codes, unique across contexts so that one switch dispatches every captured value.
const F = {
  grpMsgId: 1,
  grpCreated: 2,
  stmtId: 10,
  stmtSeq: 11,
  stmtLegalSeq: 12,
  stmtCreated: 13,
  stmtIban: 14,
  stmtOtherId: 15,
  stmtCurrency: 16,
  stmtName: 17,
  stmtOwner: 18,
  stmtBic: 19,
  balType: 30,
  balPrtryType: 31,
  balAmount: 32,
  balCdtDbt: 33,
  balDate: 34,
  ntryAmount: 40,
  ntryCdtDbt: 41,
  ntryStatus: 42,
  ntryBooking: 43,
  ntryValue: 44,
  ntryRef: 45,
  ntrySvcrRef: 46,
  ntryDomain: 47,
  ntryFamily: 48,
  ntrySubFamily: 49,
  ntryPrtryCode: 50,
  ntryCharges: 51,
  ntryChargeRecord: 52,
  ntryInstructed: 53,
  ntryRate: 54,
  ntryInfo: 55,
  txE2e: 70,
  txInstrId: 71,
  txSvcrRef: 72,
  txAmount: 73,
  txCdtDbt: 74,
  txInstructed: 75,
  txRate: 76,
  txUstrd: 77,
  txCdtrRef: 78,
  txInfo: 79,
  txDebtorName: 80,
  txCreditorName: 81,
  txUltDebtorName: 82,
  txUltCreditorName: 83,
  txDebtorIban: 84,
  txDebtorOther: 85,
  txCreditorIban: 86,
  txCreditorOther: 87,
  txDebtorBic: 88,
  txCreditorBic: 89,
} as const;

/** Amount fields: their element carries the currency in its Ccy attribute. */
const AMOUNT_FIELDS = new Set<number>([
  F.balAmount,
  F.ntryAmount,
  F.ntryCharges,
  F.ntryChargeRecord,
  F.ntryInstructed,
  F.txAmount,
  F.txInstructed,
]);

// v2–v7 put a party's name at Dbtr/Nm, v8+ at Dbtr/Pty/Nm; agents moved from BIC to BICFI in v4.
const PARTY_FIELDS: Record<string, number> = {
  'RltdPties/Dbtr/Nm': F.txDebtorName,
  'RltdPties/Dbtr/Pty/Nm': F.txDebtorName,
  'RltdPties/Cdtr/Nm': F.txCreditorName,
  'RltdPties/Cdtr/Pty/Nm': F.txCreditorName,
  'RltdPties/UltmtDbtr/Nm': F.txUltDebtorName,
  'RltdPties/UltmtDbtr/Pty/Nm': F.txUltDebtorName,
  'RltdPties/UltmtCdtr/Nm': F.txUltCreditorName,
  'RltdPties/UltmtCdtr/Pty/Nm': F.txUltCreditorName,
  'RltdPties/DbtrAcct/Id/IBAN': F.txDebtorIban,
  'RltdPties/DbtrAcct/Id/Othr/Id': F.txDebtorOther,
  'RltdPties/CdtrAcct/Id/IBAN': F.txCreditorIban,
  'RltdPties/CdtrAcct/Id/Othr/Id': F.txCreditorOther,
  'RltdAgts/DbtrAgt/FinInstnId/BIC': F.txDebtorBic,
  'RltdAgts/DbtrAgt/FinInstnId/BICFI': F.txDebtorBic,
  'RltdAgts/CdtrAgt/FinInstnId/BIC': F.txCreditorBic,
  'RltdAgts/CdtrAgt/FinInstnId/BICFI': F.txCreditorBic,
};
const STMT_ROUTES = buildRoutes({
  Id: F.stmtId,
  ElctrncSeqNb: F.stmtSeq,
  LglSeqNb: F.stmtLegalSeq,
  CreDtTm: F.stmtCreated,
  'Acct/Id/IBAN': F.stmtIban,
  'Acct/Id/Othr/Id': F.stmtOtherId,
  'Acct/Id/PrtryAcct/Id': F.stmtOtherId,
  'Acct/Id/BBAN': F.stmtOtherId,
  'Acct/Ccy': F.stmtCurrency,
  'Acct/Nm': F.stmtName,
  'Acct/Ownr/Nm': F.stmtOwner,
  'Acct/Svcr/FinInstnId/BIC': F.stmtBic,
  'Acct/Svcr/FinInstnId/BICFI': F.stmtBic,
});
// Entries and balances are contexts of their own, entered from the statement.
const BAL_ROUTES = buildRoutes({
  'Tp/CdOrPrtry/Cd': F.balType,
  'Tp/CdOrPrtry/Prtry': F.balPrtryType,
  Amt: F.balAmount,
  CdtDbtInd: F.balCdtDbt,
  'Dt/Dt': F.balDate,
  'Dt/DtTm': F.balDate,
});
const ENTRY_ROUTES = buildRoutes({
  Amt: F.ntryAmount,
  CdtDbtInd: F.ntryCdtDbt,
  // v2–v7 carry the status code as text, v8+ inside <Sts><Cd>.
  Sts: F.ntryStatus,
  'Sts/Cd': F.ntryStatus,
  'Sts/Prtry': F.ntryStatus,
  'BookgDt/Dt': F.ntryBooking,
  'BookgDt/DtTm': F.ntryBooking,
  'ValDt/Dt': F.ntryValue,
  'ValDt/DtTm': F.ntryValue,
  NtryRef: F.ntryRef,
  AcctSvcrRef: F.ntrySvcrRef,
  'BkTxCd/Domn/Cd': F.ntryDomain,
  'BkTxCd/Domn/Fmly/Cd': F.ntryFamily,
  'BkTxCd/Domn/Fmly/SubFmlyCd': F.ntrySubFamily,
  'BkTxCd/Prtry/Cd': F.ntryPrtryCode,
  'Chrgs/Amt': F.ntryCharges,
  'Chrgs/TtlChrgsAndTaxAmt': F.ntryCharges,
  'Chrgs/Rcrd/Amt': F.ntryChargeRecord,
  'AmtDtls/InstdAmt/Amt': F.ntryInstructed,
  'AmtDtls/InstdAmt/CcyXchg/XchgRate': F.ntryRate,
  'AmtDtls/TxAmt/CcyXchg/XchgRate': F.ntryRate,
  AddtlNtryInf: F.ntryInfo,
});
const TX_ROUTES = buildRoutes({
  'Refs/EndToEndId': F.txE2e,
  'Refs/InstrId': F.txInstrId,
  'Refs/AcctSvcrRef': F.txSvcrRef,
  Amt: F.txAmount,
  'AmtDtls/TxAmt/Amt': F.txAmount,
  CdtDbtInd: F.txCdtDbt,
  'AmtDtls/InstdAmt/Amt': F.txInstructed,
  'AmtDtls/InstdAmt/CcyXchg/XchgRate': F.txRate,
  'AmtDtls/TxAmt/CcyXchg/XchgRate': F.txRate,
  'RmtInf/Ustrd': F.txUstrd,
  'RmtInf/Strd/CdtrRefInf/Ref': F.txCdtrRef,
  AddtlTxInf: F.txInfo,
  ...PARTY_FIELDS,
});
// TxDtls hangs under NtryDtls, a keyless step on the way into the transaction context.
const NTRY_DTLS_ROUTES = newRouteNode();
NTRY_DTLS_ROUTES.children.set('TxDtls', TX_ROUTES);
ENTRY_ROUTES.children.set('NtryDtls', NTRY_DTLS_ROUTES);
STMT_ROUTES.children.set('Bal', BAL_ROUTES);
STMT_ROUTES.children.set('Ntry', ENTRY_ROUTES);
const GRP_ROUTES = buildRoutes({ MsgId: F.grpMsgId, CreDtTm: F.grpCreated });
compileRoutes(STMT_ROUTES);
compileRoutes(GRP_ROUTES);

function newTx(): TxDraft {
  return { debtor: {}, creditor: {}, remittance: [] };
}

function newEntry(): EntryDraft {
  return { txs: [], chargesSum: 0n };
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

function toDate(text: string): string {
  // `Dt` sometimes carries a DateTime (genkgo "only-Dt-with-DtTm"); the day is what matters.
  const day = text.trim().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`"${text}" is not an ISO date`);
  return day;
}

const POW10 = [1n, 10n, 100n, 1000n, 10000n];

/**
 * Minor units of a plain amount ("1234.5"): digits with at most the currency's decimals. Anything
 * else (signs, spaces, extra zeros, long numbers) returns undefined and goes to `parseMoney`.
 */
function plainMinorUnits(text: string, exponent: number): bigint | undefined {
  const n = text.length;
  if (n === 0 || n > 15 || exponent >= POW10.length) return undefined;
  let units = 0;
  let decimals = -1;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      units = units * 10 + (c - 48);
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0 && i > 0 && i < n - 1) {
      decimals = 0;
    } else {
      return undefined;
    }
  }
  const d = decimals < 0 ? 0 : decimals;
  // Fewer than 16 characters: the integer is exact in a double.
  return d > exponent ? undefined : BigInt(units) * POW10[exponent - d]!;
}

function toMoney(amount: AmountText, negative: boolean): Money {
  const { value, currency } = amount;
  const minor = isCurrencyCode(currency) ? plainMinorUnits(value, currencyExponent(currency)) : undefined;
  if (minor !== undefined) return money(negative ? -minor : minor, currency);
  const parsed = parseMoney(value, currency);
  return negative ? money(-parsed.amount, parsed.currency) : parsed;
}

// Few banks appear in one file, so BIC checks repeat: remember them (bounded).
const bicCache = new Map<string, Bic | null>();

function toBic(text: string): Bic | undefined {
  let bic = bicCache.get(text);
  if (bic === undefined) {
    try {
      bic = parseBic(text);
    } catch {
      bic = null;
    }
    if (bicCache.size > 10_000) bicCache.clear();
    bicCache.set(text, bic);
  }
  return bic ?? undefined;
}

function toCounterparty(party: PartyDraft): Counterparty | undefined {
  const out: Counterparty = {};
  if (party.name !== undefined) out.name = party.name;
  const iban = party.iban?.replace(/\s+/g, '').toUpperCase();
  // Anonymised or legacy accounts may fail the IBAN check: keep them, as an account number.
  if (iban !== undefined && isIbanQuick(iban)) out.iban = iban as Counterparty['iban'];
  else if (iban !== undefined) out.accountNumber = iban;
  else if (party.other !== undefined) out.accountNumber = party.other;
  // A malformed agent BIC is informational only; the line is still valid without it.
  const bic = party.bic === undefined ? undefined : toBic(party.bic);
  if (bic !== undefined) out.bic = bic;
  return out.name === undefined &&
    out.iban === undefined &&
    out.accountNumber === undefined &&
    out.bic === undefined
    ? undefined
    : out;
}

function setIf<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined && value !== '') target[key] = value;
}

/** Streams canonical statement events out of a camt.052/053/054 file. */
export async function* readCamtEvents(
  input: StatementInput,
  options: ParseOptions = {},
): AsyncGenerator<StatementEvent> {
  // saxes counts lines whatever the options; `position: false` only drops them from its messages.
  const parser = new SaxesParser({ position: false });
  const queue: StatementEvent[] = [];

  // `names` is the stack of local element names; the readable path with indices is built only for errors.
  // Both stacks are written by index up to `depth` (no push/pop per element).
  const names: string[] = [];
  const routes: (RouteNode | undefined)[] = [];
  let depth = 0;
  let prefixed = false;
  // Text is collected only inside elements whose value is kept: saxes hands out no text elsewhere.
  let text = '';
  const onText = (t: string): void => {
    text += t;
  };
  let capturing = false;
  // saxes' `on`/`off` store through a computed property name, slow at two calls per kept element;
  // its handler field is set directly when it is where saxes 6 keeps it, else through `on`/`off`.
  const handlers = parser as unknown as { textHandler?: (t: string) => void };
  parser.on('text', onText);
  const direct = handlers.textHandler === onText;
  parser.off('text');
  const listen = (on: boolean): void => {
    if (direct) handlers.textHandler = on ? onText : undefined;
    else if (on) parser.on('text', onText);
    else parser.off('text');
  };

  let format: string | undefined;
  let container: (typeof CONTAINERS)[string] | undefined;
  let statementsSeen = 0;
  let groupCreatedAt: string | undefined;
  let groupMessageId: string | undefined;
  let stmt: StatementDraft | undefined;
  let entry: EntryDraft | undefined;
  let tx: TxDraft | undefined;
  let bal: BalanceDraft | undefined;
  let pendingAmountCurrency = '';
  let sawDocument = false;

  const pathOf = (): string =>
    names
      .slice(0, depth)
      .map((n, i) => {
        if (i === 2 && stmt !== undefined && n === container?.child) return `${n}[${statementsSeen}]`;
        if (i === 3 && n === 'Ntry' && stmt !== undefined) return `${n}[${stmt.entries}]`;
        if (i === 3 && n === 'Bal' && stmt !== undefined) return `${n}[${stmt.balances.length + 1}]`;
        if (i === 5 && n === 'TxDtls' && entry !== undefined) return `${n}[${entry.txs.length}]`;
        return n;
      })
      .join('/');
  const here = (): { line: number; column: number; path: string } => ({
    line: parser.line,
    column: parser.column + 1,
    path: pathOf(),
  });
  const fail = (reason: string, code: string = ErrorCodes.STATEMENT_PARSE_FAILED): never => {
    throw new StatementParseError(reason, here(), { code });
  };

  const headOf = (s: StatementDraft): StatementHead => {
    const currency = s.currency ?? s.balances[0]?.amount.currency;
    if (currency === undefined)
      fail('the account has no currency (no Acct/Ccy and no balance to take it from)');
    const account: StatementHead['account'] = { currency: currency! };
    const iban = s.iban?.replace(/\s+/g, '').toUpperCase();
    if (iban !== undefined && isIbanQuick(iban)) account.iban = iban as StatementHead['account']['iban'];
    else if (iban !== undefined) account.accountNumber = iban;
    else if (s.otherId !== undefined) account.accountNumber = s.otherId;
    else fail('the statement has no account identification (Acct/Id/IBAN or Acct/Id/Othr/Id)');
    if (s.bic !== undefined) {
      try {
        account.bic = parseBic(s.bic);
      } catch {
        // The servicer BIC is informational; an odd one does not invalidate the statement.
      }
    }
    setIf(account, 'name', s.name);
    const head: StatementHead = {
      statementId: s.id ?? `${groupMessageId ?? 'camt'}/${statementsSeen}`,
      kind: container!.kind,
      format: format!,
      account,
    };
    setIf(head, 'createdAt', s.createdAt ?? groupCreatedAt);
    setIf(head, 'sequenceNumber', s.sequence);
    const find = (...types: string[]): Balance | undefined => {
      for (const t of types) {
        const b = s.balances.find((x) => x.type === t);
        if (b !== undefined) return { amount: b.amount, date: b.date };
      }
      return undefined;
    };
    setIf(head, 'openingBalance', find('OPBD', 'PRCD'));
    setIf(head, 'closingBalance', find('CLBD'));
    setIf(head, 'availableBalance', find('CLAV'));
    if (s.balances.length > 0) head.balances = s.balances;
    return head;
  };

  const startStatement = (s: StatementDraft): void => {
    if (s.started) return;
    s.started = true;
    queue.push({ type: 'statement-start', head: headOf(s) });
  };

  const finishEntry = (e: EntryDraft, s: StatementDraft): void => {
    if (e.amount === undefined) fail('the entry has no Amt');
    const negative = e.creditDebit === 'DBIT';
    if (e.creditDebit !== 'DBIT' && e.creditDebit !== 'CRDT')
      fail(`the entry's CdtDbtInd is "${e.creditDebit ?? ''}", expected CRDT or DBIT`);
    const amount = toMoney(e.amount!, negative);
    const status = STATUS[e.status ?? ''];
    if (status === undefined) fail(`unknown entry status "${e.status ?? ''}" (expected BOOK, PDNG or INFO)`);
    // Notifications (camt.054) and pending report entries often carry no dates; the day the bank
    // created the message is then the best booking date there is.
    const created = s.createdAt ?? groupCreatedAt;
    const bookingDate = e.bookingDate ?? e.valueDate ?? (created === undefined ? undefined : toDate(created));
    if (bookingDate === undefined)
      fail('the entry has no booking date (BookgDt), no value date (ValDt) and the message no creation time');
    if (s.currency === undefined && s.balances.length === 0) s.currency = amount.currency;
    startStatement(s);
    const line: StatementLine = {
      entryRef:
        e.accountServicerRef ??
        e.entryRef ??
        (e.txs.length === 1 ? e.txs[0]!.accountServicerRef : undefined) ??
        `${s.id ?? statementsSeen}/${s.entries}`,
      status: status!,
      bookingDate: bookingDate!,
      amount,
    };
    // Plain assignments rather than a generic setter: one line per entry is the hot path.
    if (e.valueDate !== undefined) line.valueDate = e.valueDate;
    if (e.accountServicerRef !== undefined && e.accountServicerRef !== '')
      line.accountServicerRef = e.accountServicerRef;
    if (e.domain !== undefined) {
      let code = e.domain;
      if (e.family !== undefined) code += `/${e.family}`;
      if (e.subFamily !== undefined) code += `/${e.subFamily}`;
      line.bankTransactionCode = code;
    } else if (e.proprietaryCode !== undefined && e.proprietaryCode !== '') {
      line.bankTransactionCode = e.proprietaryCode;
    }
    if (e.charges !== undefined) line.charges = toMoney(e.charges, false);
    else if (e.chargesCurrency !== undefined) line.charges = money(e.chargesSum, e.chargesCurrency);
    if (e.instructedAmount !== undefined) line.instructedAmount = toMoney(e.instructedAmount, false);
    if (e.exchangeRate !== undefined && e.exchangeRate !== '') line.exchangeRate = e.exchangeRate;
    if (e.additionalInfo !== undefined && e.additionalInfo !== '') line.bookingText = e.additionalInfo;
    if (e.txs.length === 1) liftDetail(line, e.txs[0]!, negative);
    else if (e.txs.length > 1) line.transactions = e.txs.map((t) => toDetail(t, negative));
    s.totals.addLine(line);
    queue.push({ type: 'line', line });
  };

  /** A single TxDtls is lifted onto its line: the same fields toDetail gives, without the detail object. */
  const liftDetail = (line: StatementLine, t: TxDraft, entryNegative: boolean): void => {
    const negative = t.creditDebit === undefined ? entryNegative : t.creditDebit === 'DBIT';
    // The amount is the entry's; it is still read, so that a malformed one is refused.
    if (t.amount !== undefined) toMoney(t.amount, negative);
    const counterparty = toCounterparty(negative ? t.creditor : t.debtor);
    if (counterparty !== undefined) line.counterparty = counterparty;
    const remittance = t.remittance.length > 0 ? t.remittance.join(' ') : t.additionalInfo;
    if (remittance !== undefined && remittance !== '') line.remittanceInfo = remittance;
    if (t.creditorReference !== undefined && t.creditorReference !== '')
      line.creditorReference = t.creditorReference;
    if (t.endToEndId !== undefined && t.endToEndId !== '' && t.endToEndId !== 'NOTPROVIDED')
      line.endToEndId = t.endToEndId;
    if (t.instructionId !== undefined && t.instructionId !== '') line.instructionId = t.instructionId;
    if (
      line.accountServicerRef === undefined &&
      t.accountServicerRef !== undefined &&
      t.accountServicerRef !== ''
    )
      line.accountServicerRef = t.accountServicerRef;
    if (line.instructedAmount === undefined && t.instructedAmount !== undefined)
      line.instructedAmount = toMoney(t.instructedAmount, false);
    if (line.exchangeRate === undefined && t.exchangeRate !== undefined && t.exchangeRate !== '')
      line.exchangeRate = t.exchangeRate;
  };

  const toDetail = (t: TxDraft, entryNegative: boolean): TransactionDetail => {
    const negative = t.creditDebit === undefined ? entryNegative : t.creditDebit === 'DBIT';
    const detail: TransactionDetail = {};
    if (t.amount !== undefined) detail.amount = toMoney(t.amount, negative);
    // The other side of a credit is the debtor, of a debit the creditor.
    setIf(detail, 'counterparty', toCounterparty(negative ? t.creditor : t.debtor));
    if (t.remittance.length > 0) detail.remittanceInfo = t.remittance.join(' ');
    else setIf(detail, 'remittanceInfo', t.additionalInfo);
    setIf(detail, 'creditorReference', t.creditorReference);
    setIf(detail, 'endToEndId', t.endToEndId === 'NOTPROVIDED' ? undefined : t.endToEndId);
    setIf(detail, 'instructionId', t.instructionId);
    setIf(detail, 'accountServicerRef', t.accountServicerRef);
    if (t.instructedAmount !== undefined) detail.instructedAmount = toMoney(t.instructedAmount, false);
    setIf(detail, 'exchangeRate', t.exchangeRate);
    return detail;
  };

  const amountOf = (value: string): AmountText => ({ value, currency: pendingAmountCurrency });

  /** Stores the value of a captured element in the draft of its context. */
  const setField = (field: number, value: string): void => {
    const t = tx!;
    const e = entry!;
    const s = stmt!;
    const b = bal!;
    switch (field) {
      case F.grpMsgId:
        groupMessageId = value;
        return;
      case F.grpCreated:
        groupCreatedAt = value;
        return;
      case F.stmtId:
        s.id = value;
        return;
      case F.stmtSeq:
        s.sequence = value;
        return;
      case F.stmtLegalSeq:
        s.sequence ??= value;
        return;
      case F.stmtCreated:
        s.createdAt = value;
        return;
      case F.stmtIban:
        s.iban = value;
        return;
      case F.stmtOtherId:
        s.otherId = value;
        return;
      case F.stmtCurrency:
        s.currency = value;
        return;
      case F.stmtName:
        s.name = value;
        return;
      case F.stmtOwner:
        s.name ??= value;
        return;
      case F.stmtBic:
        s.bic = value;
        return;
      case F.balType:
        b.type = value;
        return;
      case F.balPrtryType:
        b.type ??= value;
        return;
      case F.balAmount:
        b.amount = amountOf(value);
        return;
      case F.balCdtDbt:
        b.creditDebit = value;
        return;
      case F.balDate:
        b.date = toDate(value);
        return;
      case F.ntryAmount:
        e.amount = amountOf(value);
        return;
      case F.ntryCdtDbt:
        e.creditDebit = value;
        return;
      case F.ntryStatus:
        if (value !== '') e.status = value;
        return;
      case F.ntryBooking:
        e.bookingDate = toDate(value);
        return;
      case F.ntryValue:
        e.valueDate = toDate(value);
        return;
      case F.ntryRef:
        e.entryRef = value;
        return;
      case F.ntrySvcrRef:
        e.accountServicerRef = value;
        return;
      case F.ntryDomain:
        e.domain = value;
        return;
      case F.ntryFamily:
        e.family = value;
        return;
      case F.ntrySubFamily:
        e.subFamily = value;
        return;
      case F.ntryPrtryCode:
        e.proprietaryCode ??= value;
        return;
      case F.ntryCharges:
        e.charges = amountOf(value);
        return;
      case F.ntryChargeRecord: {
        const c = parseMoney(value, pendingAmountCurrency);
        e.chargesSum += c.amount;
        e.chargesCurrency = c.currency;
        return;
      }
      case F.ntryInstructed:
        e.instructedAmount = amountOf(value);
        return;
      case F.ntryRate:
        e.exchangeRate ??= value;
        return;
      case F.ntryInfo:
        e.additionalInfo = value;
        return;
      case F.txE2e:
        t.endToEndId = value;
        return;
      case F.txInstrId:
        t.instructionId = value;
        return;
      case F.txSvcrRef:
        t.accountServicerRef = value;
        return;
      case F.txAmount:
        t.amount ??= amountOf(value);
        return;
      case F.txCdtDbt:
        t.creditDebit = value;
        return;
      case F.txInstructed:
        t.instructedAmount = amountOf(value);
        return;
      case F.txRate:
        t.exchangeRate ??= value;
        return;
      case F.txUstrd:
        t.remittance.push(value);
        return;
      case F.txCdtrRef:
        t.creditorReference ??= value;
        return;
      case F.txInfo:
        t.additionalInfo = value;
        return;
      case F.txDebtorName:
        t.debtor.name = value;
        return;
      case F.txCreditorName:
        t.creditor.name = value;
        return;
      case F.txUltDebtorName:
        t.debtor.name ??= value;
        return;
      case F.txUltCreditorName:
        t.creditor.name ??= value;
        return;
      case F.txDebtorIban:
        t.debtor.iban = value;
        return;
      case F.txDebtorOther:
        t.debtor.other = value;
        return;
      case F.txCreditorIban:
        t.creditor.iban = value;
        return;
      case F.txCreditorOther:
        t.creditor.other = value;
        return;
      case F.txDebtorBic:
        t.debtor.bic = value;
        return;
      case F.txCreditorBic:
        t.creditor.bic = value;
        return;
      default:
    }
  };

  parser.on('doctype', () => {
    fail(
      'a DOCTYPE is not allowed in a bank file (entity expansion and external entities are refused)',
      ErrorCodes.XML_DOCTYPE_FORBIDDEN,
    );
  });

  parser.on('error', (e) => {
    throw new StatementParseError(`malformed XML: ${e.message.replace(/^[^:]*:\d+:\d+: /, '')}`, here(), {
      cause: e,
    });
  });

  // CDATA inside a kept element is part of its value.
  parser.on('cdata', (data) => {
    if (capturing) text += data;
  });

  parser.on('opentag', (tag) => {
    // Without a prefix on <Document>, a prefixed element belongs to another namespace: its full
    // name matches no route, so it is skipped, and no name needs splitting.
    const name = prefixed || depth === 0 ? localName(tag.name) : tag.name;
    names[depth] = name;
    depth++;
    const parent = depth > 1 ? routes[depth - 2] : undefined;
    let node: RouteNode | undefined;
    if (parent !== undefined) {
      node = childOf(parent, name);
      if (node !== undefined && node.field === 0) {
        if (node === TX_ROUTES) {
          tx = newTx();
          entry!.txs.push(tx);
        } else if (node === ENTRY_ROUTES) {
          stmt!.entries++;
          entry = newEntry();
        } else if (node === BAL_ROUTES) {
          bal = {};
        }
      }
    } else if (depth === 1) {
      const attributes = tag.attributes as Record<string, string>;
      sawDocument = true;
      if (name !== 'Document') fail(`the root element is <${tag.name}>, expected <Document>`);
      const colon = tag.name.indexOf(':');
      prefixed = colon !== -1;
      const nsAttr = colon === -1 ? 'xmlns' : `xmlns:${tag.name.slice(0, colon)}`;
      const ns = attributes[nsAttr];
      const m = ns === undefined ? null : NAMESPACE.exec(ns);
      if (m === null) {
        fail(
          ns === undefined
            ? 'the Document has no namespace; expected urn:iso:std:iso:20022:tech:xsd:camt.05x.001.nn'
            : `unsupported namespace "${ns}"; expected urn:iso:std:iso:20022:tech:xsd:camt.052/053/054.001.nn`,
          ErrorCodes.XML_NAMESPACE_UNSUPPORTED,
        );
      }
      format = `${m![1]}.001.${m![2]}`;
    } else if (depth === 2) {
      // camt.05x.001.01 suffixes the message element with its version (BkToCstmrAcctRptV01).
      const c = CONTAINERS[name.replace(/V\d{2}$/, '')];
      if (c === undefined)
        fail(
          `unexpected <${name}> under Document; expected BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn`,
        );
      if (!format!.startsWith(c!.message))
        fail(`<${name}> (a ${c!.message} message) in a ${format} namespace`);
      container = c;
    } else if (depth === 3 && name === container!.child) {
      statementsSeen++;
      stmt = { balances: [], started: false, entries: 0, totals: new LineTotals() };
      node = STMT_ROUTES;
    } else if (depth === 3 && name === 'GrpHdr') {
      node = GRP_ROUTES;
    }
    routes[depth - 1] = node;
    const field = node === undefined ? 0 : node.field;
    if (field !== 0) {
      text = '';
      if (!capturing) listen(true);
      capturing = true;
      if (AMOUNT_FIELDS.has(field))
        pendingAmountCurrency = (tag.attributes as Record<string, string>).Ccy ?? '';
    } else if (capturing) {
      // A child of a captured element (<Sts><Cd>): the parent's own text is not kept.
      listen(false);
      capturing = false;
    }
  });

  parser.on('closetag', () => {
    const node = routes[depth - 1];
    if (capturing) {
      listen(false);
      capturing = false;
    }
    try {
      if (node === undefined) {
        if (depth === 2 && container !== undefined && statementsSeen === 0) {
          fail(`the ${container.message} message holds no ${container.child}`);
        } else if (depth === 1 && container === undefined) {
          fail(
            'the Document holds no camt message (BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn)',
          );
        }
      } else if (node.field !== 0) {
        setField(node.field, text.trim());
        text = '';
      } else if (node === TX_ROUTES) {
        tx = undefined;
      } else if (node === ENTRY_ROUTES) {
        finishEntry(entry!, stmt!);
        entry = undefined;
      } else if (node === BAL_ROUTES) {
        const b = bal!;
        if (b.amount === undefined) fail('the balance has no Amt');
        // Some FinTS banks omit the balance date (hbci4j "missing-date"); the report's creation day stands in.
        const created = stmt!.createdAt ?? groupCreatedAt;
        const date = b.date ?? (created === undefined ? undefined : toDate(created));
        if (date === undefined) fail('the balance has no date (Dt) and the message no creation time');
        stmt!.balances.push({
          type: b.type ?? 'UNKNOWN',
          amount: toMoney(b.amount!, b.creditDebit === 'DBIT'),
          date: date!,
        });
        bal = undefined;
      } else if (node === STMT_ROUTES) {
        startStatement(stmt!);
        queue.push({ type: 'statement-end', summary: stmt!.totals.summarize(headOf(stmt!)) });
        stmt = undefined;
      }
    } catch (e) {
      throw toParseError(e, here());
    }
    depth--;
  });

  const decoder = createChunkDecoder();
  try {
    for await (const piece of readChunks(input, options.maxBytes)) {
      if (typeof piece === 'string') {
        parser.write(piece);
      } else {
        // Small text pieces die young: a 64 KiB piece lives long enough to be promoted to the old
        // generation (+35 MB peak RSS over a 300 MB file), a 16 KiB one does not.
        for (let at = 0; at < piece.byteLength; at += TEXT_PIECE_BYTES) {
          parser.write(decoder.decode(piece.subarray(at, at + TEXT_PIECE_BYTES)));
          if (queue.length > 0) yield* queue.splice(0, queue.length);
        }
      }
      if (queue.length > 0) yield* queue.splice(0, queue.length);
    }
    const rest = decoder.end();
    if (rest !== '') parser.write(rest);
    parser.close();
  } catch (e) {
    throw toParseError(e, here());
  }
  if (!sawDocument) throw new StatementParseError('the file holds no XML document', here());
  if (queue.length > 0) yield* queue.splice(0, queue.length);
}

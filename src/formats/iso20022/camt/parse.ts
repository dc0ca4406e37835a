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
  isIban,
  money,
  parseBic,
  parseMoney,
} from '../../../domain/index.ts';
import { StatementParseError, toParseError } from '../../errors.ts';
import { LineTotals, type StatementEvent, type StatementHead } from '../../events.ts';
import { type ParseOptions, type StatementInput, readChunks } from '../../input.ts';

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

/** A node of the element-path trie of one context; `key` names the field handled at this element. */
interface RouteNode {
  children: Map<string, RouteNode>;
  key?: string;
  kind: 'stmt' | 'bal' | 'entry' | 'tx' | 'grp';
}

function buildRoutes(kind: RouteNode['kind'], keys: readonly string[]): RouteNode {
  // Element paths resolve by one Map lookup per element instead of string building and switches.
  const root: RouteNode = { children: new Map(), kind };
  for (const key of keys) {
    let node = root;
    for (const part of key.split('/')) {
      let next = node.children.get(part);
      if (next === undefined) {
        next = { children: new Map(), kind };
        node.children.set(part, next);
      }
      node = next;
    }
    node.key = key;
  }
  return root;
}

const PARTY_KEYS = [
  ...['Dbtr', 'Cdtr', 'UltmtDbtr', 'UltmtCdtr'].flatMap((p) => [
    `RltdPties/${p}/Nm`,
    `RltdPties/${p}/Pty/Nm`,
  ]),
  ...['DbtrAcct', 'CdtrAcct'].flatMap((a) => [`RltdPties/${a}/Id/IBAN`, `RltdPties/${a}/Id/Othr/Id`]),
  ...['DbtrAgt', 'CdtrAgt'].flatMap((g) => [
    `RltdAgts/${g}/FinInstnId/BIC`,
    `RltdAgts/${g}/FinInstnId/BICFI`,
  ]),
];
const STMT_ROUTES = buildRoutes('stmt', [
  'Id',
  'ElctrncSeqNb',
  'LglSeqNb',
  'CreDtTm',
  'Acct/Id/IBAN',
  'Acct/Id/Othr/Id',
  'Acct/Id/PrtryAcct/Id',
  'Acct/Id/BBAN',
  'Acct/Ccy',
  'Acct/Nm',
  'Acct/Ownr/Nm',
  'Acct/Svcr/FinInstnId/BIC',
  'Acct/Svcr/FinInstnId/BICFI',
]);
const BAL_ROUTES = buildRoutes('bal', [
  'Tp/CdOrPrtry/Cd',
  'Tp/CdOrPrtry/Prtry',
  'Amt',
  'CdtDbtInd',
  'Dt/Dt',
  'Dt/DtTm',
]);
const ENTRY_ROUTES = buildRoutes('entry', [
  'Amt',
  'CdtDbtInd',
  'Sts',
  'Sts/Cd',
  'Sts/Prtry',
  'BookgDt/Dt',
  'BookgDt/DtTm',
  'ValDt/Dt',
  'ValDt/DtTm',
  'NtryRef',
  'AcctSvcrRef',
  'BkTxCd/Domn/Cd',
  'BkTxCd/Domn/Fmly/Cd',
  'BkTxCd/Domn/Fmly/SubFmlyCd',
  'BkTxCd/Prtry/Cd',
  'Chrgs/Amt',
  'Chrgs/TtlChrgsAndTaxAmt',
  'Chrgs/Rcrd/Amt',
  'AmtDtls/InstdAmt/Amt',
  'AmtDtls/InstdAmt/CcyXchg/XchgRate',
  'AmtDtls/TxAmt/CcyXchg/XchgRate',
  'AddtlNtryInf',
]);
// TxDtls hangs under NtryDtls, a keyless step on the way into the transaction context.
ENTRY_ROUTES.children.set('NtryDtls', { children: new Map(), kind: 'entry' });
const TX_ROUTES = buildRoutes('tx', [
  'Refs/EndToEndId',
  'Refs/InstrId',
  'Refs/AcctSvcrRef',
  'Amt',
  'AmtDtls/TxAmt/Amt',
  'CdtDbtInd',
  'AmtDtls/InstdAmt/Amt',
  'AmtDtls/InstdAmt/CcyXchg/XchgRate',
  'AmtDtls/TxAmt/CcyXchg/XchgRate',
  'RmtInf/Ustrd',
  'RmtInf/Strd/CdtrRefInf/Ref',
  'AddtlTxInf',
  ...PARTY_KEYS,
]);
const GRP_ROUTES = buildRoutes('grp', ['MsgId', 'CreDtTm']);

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

function toMoney(amount: AmountText, negative: boolean): Money {
  if (!negative) return parseMoney(amount.value, amount.currency);
  const parsed = parseMoney(amount.value, amount.currency);
  return money(-parsed.amount, parsed.currency);
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
  if (iban !== undefined && isIban(iban)) out.iban = iban as Counterparty['iban'];
  else if (iban !== undefined) out.accountNumber = iban;
  else if (party.other !== undefined) out.accountNumber = party.other;
  // A malformed agent BIC is informational only; the line is still valid without it.
  const bic = party.bic === undefined ? undefined : toBic(party.bic);
  if (bic !== undefined) out.bic = bic;
  return Object.keys(out).length === 0 ? undefined : out;
}

function setIf<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined && value !== '') target[key] = value;
}

/** Streams canonical statement events out of a camt.052/053/054 file. */
export async function* readCamtEvents(
  input: StatementInput,
  options: ParseOptions = {},
): AsyncGenerator<StatementEvent> {
  // saxes' own line tracking costs a third of its speed; lines are counted per chunk instead.
  const parser = new SaxesParser({ position: false });
  let chunk = '';
  let chunkStart = 0;
  let linesBefore = 0;
  const queue: StatementEvent[] = [];

  // `names` is the stack of local element names; the readable path with indices is built only for errors.
  const names: string[] = [];
  let text = '';
  let capturing = false;
  const routes: (RouteNode | undefined)[] = [];

  let format: string | undefined;
  let container: (typeof CONTAINERS)[string] | undefined;
  let statementsSeen = 0;
  let groupCreatedAt: string | undefined;
  let groupMessageId: string | undefined;
  let stmt: StatementDraft | undefined;
  let entry: EntryDraft | undefined;
  let tx: TxDraft | undefined;
  let bal: BalanceDraft | undefined;
  let pendingAmountCurrency: string | undefined;
  let sawDocument = false;

  const pathOf = (): string =>
    names
      .map((n, i) => {
        if (i === 2 && stmt !== undefined && n === container?.child) return `${n}[${statementsSeen}]`;
        if (i === 3 && n === 'Ntry' && stmt !== undefined) return `${n}[${stmt.entries}]`;
        if (i === 3 && n === 'Bal' && stmt !== undefined) return `${n}[${stmt.balances.length + 1}]`;
        if (i === 5 && n === 'TxDtls' && entry !== undefined) return `${n}[${entry.txs.length}]`;
        return n;
      })
      .join('/');
  const here = (): { line: number; column: number; path: string } => {
    const offset = Math.max(0, Math.min(chunk.length, parser.position - chunkStart));
    let line = linesBefore + 1;
    let lastNewline = -1;
    for (let i = chunk.indexOf('\n'); i !== -1 && i < offset; i = chunk.indexOf('\n', i + 1)) {
      line++;
      lastNewline = i;
    }
    return { line, column: offset - lastNewline, path: pathOf() };
  };
  const write = (text: string): void => {
    chunk = text;
    parser.write(text);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) linesBefore++;
    chunkStart += text.length;
    chunk = '';
  };
  const fail = (reason: string, code: string = ErrorCodes.STATEMENT_PARSE_FAILED): never => {
    throw new StatementParseError(reason, here(), { code });
  };

  const headOf = (s: StatementDraft): StatementHead => {
    const currency = s.currency ?? s.balances[0]?.amount.currency;
    if (currency === undefined)
      fail('the account has no currency (no Acct/Ccy and no balance to take it from)');
    const account: StatementHead['account'] = { currency: currency! };
    const iban = s.iban?.replace(/\s+/g, '').toUpperCase();
    if (iban !== undefined && isIban(iban)) account.iban = iban as StatementHead['account']['iban'];
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
    setIf(line, 'valueDate', e.valueDate);
    setIf(line, 'accountServicerRef', e.accountServicerRef);
    if (e.domain !== undefined)
      line.bankTransactionCode = [e.domain, e.family, e.subFamily].filter((x) => x !== undefined).join('/');
    else setIf(line, 'bankTransactionCode', e.proprietaryCode);
    if (e.charges !== undefined) line.charges = toMoney(e.charges, false);
    else if (e.chargesCurrency !== undefined) line.charges = money(e.chargesSum, e.chargesCurrency);
    if (e.instructedAmount !== undefined) line.instructedAmount = toMoney(e.instructedAmount, false);
    setIf(line, 'exchangeRate', e.exchangeRate);
    setIf(line, 'bookingText', e.additionalInfo);
    const details = e.txs.map((t) => toDetail(t, negative));
    if (details.length === 1) {
      const d = details[0]!;
      setIf(line, 'counterparty', d.counterparty);
      setIf(line, 'remittanceInfo', d.remittanceInfo);
      setIf(line, 'creditorReference', d.creditorReference);
      setIf(line, 'endToEndId', d.endToEndId);
      setIf(line, 'instructionId', d.instructionId);
      if (line.accountServicerRef === undefined) setIf(line, 'accountServicerRef', d.accountServicerRef);
      if (line.instructedAmount === undefined) setIf(line, 'instructedAmount', d.instructedAmount);
      if (line.exchangeRate === undefined) setIf(line, 'exchangeRate', d.exchangeRate);
    } else if (details.length > 1) {
      line.transactions = details;
    }
    s.totals.addLine(line);
    queue.push({ type: 'line', line });
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

  const onParty = (r: string, t: TxDraft, value: string): boolean => {
    // v2–v7 put the name at Dbtr/Nm, v8+ at Dbtr/Pty/Nm; agents moved from BIC to BICFI in v4.
    const m =
      /^RltdPties\/(Dbtr|Cdtr|UltmtDbtr|UltmtCdtr)(?:\/Pty)?\/Nm$|^RltdPties\/(DbtrAcct|CdtrAcct)\/Id\/(IBAN|Othr\/Id)$|^RltdAgts\/(DbtrAgt|CdtrAgt)\/FinInstnId\/(BIC|BICFI)$/.exec(
        r,
      );
    if (m === null) return false;
    if (m[1] === 'Dbtr') t.debtor.name = value;
    else if (m[1] === 'Cdtr') t.creditor.name = value;
    else if (m[1] === 'UltmtDbtr') t.debtor.name ??= value;
    else if (m[1] === 'UltmtCdtr') t.creditor.name ??= value;
    else if (m[2] !== undefined) {
      const party = m[2] === 'DbtrAcct' ? t.debtor : t.creditor;
      if (m[3] === 'IBAN') party.iban = value;
      else party.other = value;
    } else if (m[4] !== undefined) {
      (m[4] === 'DbtrAgt' ? t.debtor : t.creditor).bic = value;
    }
    return true;
  };

  const closeInTx = (r: string, t: TxDraft, value: string): void => {
    switch (r) {
      case 'Refs/EndToEndId':
        t.endToEndId = value;
        return;
      case 'Refs/InstrId':
        t.instructionId = value;
        return;
      case 'Refs/AcctSvcrRef':
        t.accountServicerRef = value;
        return;
      case 'Amt':
      case 'AmtDtls/TxAmt/Amt':
        t.amount ??= { value, currency: pendingAmountCurrency ?? '' };
        return;
      case 'CdtDbtInd':
        t.creditDebit = value;
        return;
      case 'AmtDtls/InstdAmt/Amt':
        t.instructedAmount = { value, currency: pendingAmountCurrency ?? '' };
        return;
      case 'AmtDtls/InstdAmt/CcyXchg/XchgRate':
      case 'AmtDtls/TxAmt/CcyXchg/XchgRate':
        t.exchangeRate ??= value;
        return;
      case 'RmtInf/Ustrd':
        t.remittance.push(value);
        return;
      case 'RmtInf/Strd/CdtrRefInf/Ref':
        t.creditorReference ??= value;
        return;
      case 'AddtlTxInf':
        t.additionalInfo = value;
        return;
      default:
        onParty(r, t, value);
    }
  };

  const closeInEntry = (r: string, e: EntryDraft, value: string): void => {
    switch (r) {
      case 'Amt':
        e.amount = { value, currency: pendingAmountCurrency ?? '' };
        return;
      case 'CdtDbtInd':
        e.creditDebit = value;
        return;
      case 'Sts':
      case 'Sts/Cd':
      case 'Sts/Prtry':
        // v2–v7 carry the code as text, v8+ inside <Sts><Cd>.
        if (value !== '') e.status = value;
        return;
      case 'BookgDt/Dt':
      case 'BookgDt/DtTm':
        e.bookingDate = toDate(value);
        return;
      case 'ValDt/Dt':
      case 'ValDt/DtTm':
        e.valueDate = toDate(value);
        return;
      case 'NtryRef':
        e.entryRef = value;
        return;
      case 'AcctSvcrRef':
        e.accountServicerRef = value;
        return;
      case 'BkTxCd/Domn/Cd':
        e.domain = value;
        return;
      case 'BkTxCd/Domn/Fmly/Cd':
        e.family = value;
        return;
      case 'BkTxCd/Domn/Fmly/SubFmlyCd':
        e.subFamily = value;
        return;
      case 'BkTxCd/Prtry/Cd':
        e.proprietaryCode ??= value;
        return;
      case 'Chrgs/Amt':
      case 'Chrgs/TtlChrgsAndTaxAmt':
        e.charges = { value, currency: pendingAmountCurrency ?? '' };
        return;
      case 'Chrgs/Rcrd/Amt': {
        const c = parseMoney(value, pendingAmountCurrency ?? '');
        e.chargesSum += c.amount;
        e.chargesCurrency = c.currency;
        return;
      }
      case 'AmtDtls/InstdAmt/Amt':
        e.instructedAmount = { value, currency: pendingAmountCurrency ?? '' };
        return;
      case 'AmtDtls/InstdAmt/CcyXchg/XchgRate':
      case 'AmtDtls/TxAmt/CcyXchg/XchgRate':
        e.exchangeRate ??= value;
        return;
      case 'AddtlNtryInf':
        e.additionalInfo = value;
        return;
      default:
    }
  };

  const closeInStatement = (r: string, s: StatementDraft, value: string): void => {
    switch (r) {
      case 'Id':
        s.id = value;
        return;
      case 'ElctrncSeqNb':
        s.sequence = value;
        return;
      case 'LglSeqNb':
        s.sequence ??= value;
        return;
      case 'CreDtTm':
        s.createdAt = value;
        return;
      case 'Acct/Id/IBAN':
        s.iban = value;
        return;
      case 'Acct/Id/Othr/Id':
      case 'Acct/Id/PrtryAcct/Id':
      case 'Acct/Id/BBAN':
        s.otherId = value;
        return;
      case 'Acct/Ccy':
        s.currency = value;
        return;
      case 'Acct/Nm':
        s.name = value;
        return;
      case 'Acct/Ownr/Nm':
        s.name ??= value;
        return;
      case 'Acct/Svcr/FinInstnId/BIC':
      case 'Acct/Svcr/FinInstnId/BICFI':
        s.bic = value;
        return;
      default:
    }
  };

  const closeInBalance = (r: string, b: BalanceDraft, value: string): void => {
    switch (r) {
      case 'Tp/CdOrPrtry/Cd':
        b.type = value;
        return;
      case 'Tp/CdOrPrtry/Prtry':
        b.type ??= value;
        return;
      case 'Amt':
        b.amount = { value, currency: pendingAmountCurrency ?? '' };
        return;
      case 'CdtDbtInd':
        b.creditDebit = value;
        return;
      case 'Dt/Dt':
      case 'Dt/DtTm':
        b.date = toDate(value);
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

  parser.on('text', (t) => {
    if (capturing) text += t;
  });

  parser.on('opentag', (tag) => {
    const name = localName(tag.name);
    names.push(name);
    text = '';
    const depth = names.length;
    const parent = routes[depth - 2];
    let node: RouteNode | undefined;
    if (parent !== undefined) {
      node =
        parent.kind === 'entry' && depth === 6 && name === 'TxDtls' && names[4] === 'NtryDtls'
          ? TX_ROUTES
          : parent.children.get(name);
      if (node === TX_ROUTES) {
        tx = newTx();
        entry!.txs.push(tx);
      }
    } else if (depth === 1) {
      const attributes = tag.attributes as Record<string, string>;
      sawDocument = true;
      if (name !== 'Document') fail(`the root element is <${tag.name}>, expected <Document>`);
      const colon = tag.name.indexOf(':');
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
    if (node === STMT_ROUTES.children.get(name) && depth === 4 && parent === STMT_ROUTES) {
      // Entries and balances are contexts of their own, not fields of the statement.
      if (name === 'Ntry') {
        stmt!.entries++;
        entry = newEntry();
        node = ENTRY_ROUTES;
      } else if (name === 'Bal') {
        bal = {};
        node = BAL_ROUTES;
      }
    }
    routes.push(node);
    capturing = node?.key !== undefined;
    if (capturing && (name === 'Amt' || name === 'TtlChrgsAndTaxAmt'))
      pendingAmountCurrency = (tag.attributes as Record<string, string>).Ccy;
  });

  parser.on('closetag', () => {
    const depth = names.length;
    const node = routes[depth - 1];
    try {
      if (node?.key !== undefined) {
        const value = text.trim();
        switch (node.kind) {
          case 'tx':
            closeInTx(node.key, tx!, value);
            break;
          case 'entry':
            closeInEntry(node.key, entry!, value);
            break;
          case 'bal':
            closeInBalance(node.key, bal!, value);
            break;
          case 'stmt':
            closeInStatement(node.key, stmt!, value);
            break;
          case 'grp':
            if (node.key === 'CreDtTm') groupCreatedAt = value;
            else groupMessageId = value;
            break;
          default:
        }
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
      } else if (depth === 2 && container !== undefined && statementsSeen === 0) {
        fail(`the ${container.message} message holds no ${container.child}`);
      } else if (depth === 1 && container === undefined) {
        fail('the Document holds no camt message (BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn)');
      }
    } catch (e) {
      throw toParseError(e, here());
    }
    names.pop();
    routes.pop();
    text = '';
    capturing = false;
  });

  let decoder: InstanceType<typeof TextDecoder> | undefined;
  const decode = (bytes: Uint8Array): string => {
    if (decoder === undefined) {
      // The XML declaration names the encoding; banks use UTF-8, a few still ISO-8859-1.
      const declared = /^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9_.-]+)["']/
        .exec(new TextDecoder('latin1').decode(bytes.subarray(0, 200)))?.[1]
        ?.toLowerCase();
      decoder = new TextDecoder(
        declared !== undefined && /^(iso-8859-1|iso-8859-15|latin1|windows-1252|cp1252)$/.test(declared)
          ? 'windows-1252'
          : 'utf-8',
      );
    }
    return decoder.decode(bytes, { stream: true });
  };
  try {
    for await (const piece of readChunks(input, options.maxBytes)) {
      write(typeof piece === 'string' ? piece : decode(piece));
      if (queue.length > 0) yield* queue.splice(0, queue.length);
    }
    const rest = decoder?.decode() ?? '';
    if (rest !== '') write(rest);
    parser.close();
  } catch (e) {
    throw toParseError(e, here());
  }
  if (!sawDocument) throw new StatementParseError('the file holds no XML document', here());
  if (queue.length > 0) yield* queue.splice(0, queue.length);
}

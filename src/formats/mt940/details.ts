/** Reads the bank dialects of the MT940 :86: field: German ?nn subfields, Dutch /CODE/ pairs, free text. */
import { type Counterparty, parseBic } from '../../domain/index.ts';
import { isIbanQuick } from '../iban-check.ts';

/** What a :86: field says about its transaction. */
export interface TransactionInfo {
  counterparty?: Counterparty;
  remittanceInfo?: string;
  creditorReference?: string;
  endToEndId?: string;
  bookingText?: string;
  transactionCode?: string;
}

const DUTCH_KEYS = [
  'TRTP',
  'IBAN',
  'BIC',
  'NAME',
  'REMI',
  'EREF',
  'ORDP',
  'BENM',
  'CSID',
  'MARF',
  'ADDR',
  'PURP',
  'ISDT',
  'CDTRREFTP',
  'CDTRREF',
  'CNTP',
  'RTRN',
  'PREF',
  'NRTX',
  'ULTC',
  'ULTD',
  'ULTB',
  'EXCH',
  'OCMT',
  'CHGS',
  'SVCL',
  'BUSP',
  'ID',
  'CD',
  'ISSR',
  'CUR',
  'USTD',
  'STRD',
];
const DUTCH = new RegExp(`/(${DUTCH_KEYS.join('|')})/`, 'g');
const DUTCH_PROBE = new RegExp(`/(${DUTCH_KEYS.join('|')})/`);
const RF = /\bRF\d{2}[0-9A-Z]{1,21}\b/;
const SEPA_KEYS = /(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|PURP)\+/g;

function toCounterparty(
  name: string | undefined,
  account: string | undefined,
  bic: string | undefined,
): Counterparty | undefined {
  const out: Counterparty = {};
  if (name !== undefined && name.trim() !== '') out.name = name.trim();
  const acct = account?.replace(/\s+/g, '').toUpperCase();
  if (acct !== undefined && acct !== '' && !/^0+$/.test(acct)) {
    if (isIbanQuick(acct)) out.iban = acct as Counterparty['iban'];
    else out.accountNumber = acct;
  }
  if (bic !== undefined && bic.trim() !== '') {
    try {
      out.bic = parseBic(bic.trim());
    } catch {
      // Banks put BLZ numbers or padding where the BIC belongs; the line stays valid without it.
    }
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function findCreditorReference(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return RF.exec(text.replace(/\s+/g, ''))?.[0];
}

/** Reads German structured details: `835?00Booking text?20purpose…?32name?31IBAN`. */
function readGerman(raw: string): TransactionInfo {
  // Subfields wrap at any character, so continuation lines join without a separator.
  const text = raw.replace(/\n/g, '');
  const code = text.slice(0, 3);
  const sep = text[3] ?? '?';
  const fields = new Map<string, string>();
  for (const part of text.slice(4).split(sep)) {
    const key = part.slice(0, 2);
    if (!/^\d{2}$/.test(key)) continue;
    fields.set(key, (fields.get(key) ?? '') + part.slice(2));
  }
  const purposeKeys = ['20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '60', '61', '62', '63'];
  const parts = purposeKeys.map((k) => fields.get(k)).filter((v): v is string => v !== undefined);
  // SEPA texts (EREF+/SVWZ+…) wrap mid-word across subfields; older texts use one subfield per line.
  const joined = parts.join('');
  const purpose = /(EREF|SVWZ|MREF|KREF|CRED)\+/.test(joined) ? joined : parts.map((p) => p.trim()).join(' ');
  const sepa = new Map<string, string>();
  const marks = [...purpose.matchAll(SEPA_KEYS)];
  marks.forEach((m, i) => {
    const start = m.index + m[0].length;
    const end = i + 1 < marks.length ? marks[i + 1]!.index : purpose.length;
    sepa.set(m[1]!, purpose.slice(start, end).trim());
  });
  const info: TransactionInfo = { transactionCode: code };
  const remittance = sepa.get('SVWZ') ?? (marks.length === 0 ? purpose.trim() : undefined);
  if (remittance !== undefined && remittance !== '') info.remittanceInfo = remittance;
  const eref = sepa.get('EREF');
  if (eref !== undefined && eref !== 'NOTPROVIDED' && eref !== '') info.endToEndId = eref;
  const booking = fields.get('00')?.trim();
  if (booking !== undefined && booking !== '') info.bookingText = booking;
  const counterparty = toCounterparty(
    ((fields.get('32') ?? '') + (fields.get('33') ?? '')).trim() || undefined,
    fields.get('31'),
    fields.get('30'),
  );
  if (counterparty !== undefined) info.counterparty = counterparty;
  const cref = findCreditorReference(remittance);
  if (cref !== undefined) info.creditorReference = cref;
  return info;
}

/** Reads Dutch structured details: `/TRTP/SEPA OVERBOEKING/IBAN/NL…/NAME/…/REMI/…`. */
function readDutch(raw: string): TransactionInfo {
  const text = raw.replace(/\n/g, '');
  const values = new Map<string, string>();
  const marks = [...text.matchAll(DUTCH)];
  marks.forEach((m, i) => {
    const start = m.index + m[0].length;
    const end = i + 1 < marks.length ? marks[i + 1]!.index : text.length;
    const key = m[1]!;
    // The first occurrence wins: /CNTP/, /ORDP/ and /BENM/ nest their own NAME/IBAN/BIC keys.
    if (!values.has(key)) values.set(key, text.slice(start, end).replace(/\/$/, '').trim());
  });
  const info: TransactionInfo = {};
  const trtp = values.get('TRTP');
  if (trtp !== undefined) info.bookingText = trtp;
  let remi = values.get('REMI');
  if (remi !== undefined) {
    remi = remi.replace(/^(USTD|STRD)\/+/, '');
    if (remi !== '') info.remittanceInfo = remi;
  }
  const eref = values.get('EREF');
  if (eref !== undefined && eref !== '' && eref !== 'NOTPROVIDED') info.endToEndId = eref;
  const cref = values.get('CDTRREF') ?? findCreditorReference(remi);
  if (cref !== undefined && cref !== '') info.creditorReference = cref;
  const counterparty = toCounterparty(values.get('NAME'), values.get('IBAN'), values.get('BIC'));
  if (counterparty !== undefined) info.counterparty = counterparty;
  if (info.remittanceInfo === undefined && marks.length === 0) info.remittanceInfo = text.trim();
  return info;
}

/** Interprets one :86: field (lines joined by "\n") in whichever dialect it is written. */
export function readTransactionInfo(raw: string): TransactionInfo {
  if (/^\d{3}[?@]\d{2}/.test(raw.replace(/\n/g, ''))) return readGerman(raw);
  if (DUTCH_PROBE.test(raw.replace(/\n/g, ''))) return readDutch(raw);
  const text = raw
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');
  const info: TransactionInfo = {};
  // Older ABN AMRO lines label their fields: "SEPA IDEAL  IBAN: NL… BIC: … NAAM: … OMSCHRIJVING: …".
  const labelled =
    /^(SEPA [A-Z ]+?)\s{2,}.*\bIBAN:\s*(\S+)(?:\s+BIC:\s*(\S+))?.*?\bNAAM:\s*(.+?)(?=\s{2,}|\s+[A-Z.]{4,}:|$)(?:.*?\bOMSCHRIJVING:\s*(.+?)(?=\s+[A-Z.]{4,}:|$))?/.exec(
      text,
    );
  if (labelled !== null) {
    info.bookingText = labelled[1]!.trim();
    const counterparty = toCounterparty(labelled[4], labelled[2], labelled[3]);
    if (counterparty !== undefined) info.counterparty = counterparty;
  }
  if (text !== '') info.remittanceInfo = labelled?.[5]?.trim() ?? text;
  const cref = findCreditorReference(text);
  if (cref !== undefined) info.creditorReference = cref;
  return info;
}

/**
 * pain.001 writer: a PaymentOrder becomes one Customer Credit Transfer Initiation message with
 * one payment information block (one debtor account, one execution date). EUR orders follow the
 * EPC SEPA Credit Transfer Implementation Guidelines (EPC132-08); other currencies get the same
 * message without the SEPA service level.
 */
import {
  type Money,
  money,
  type PaymentOrder,
  type PaymentOrderLine,
  ErrorCodes,
  type FieldIssue,
  formatMoney,
  ibanProblem,
  parseBic,
  ValidationError,
} from '../../../domain/index.ts';
import { isRfCreditorReference, sepaIdentifierProblem, toSepaText } from './sepa-charset.ts';
import { element, printXmlDocument, printXmlFragment, textElement, type XmlNode } from './xml-builder.ts';

/** The pain.001 versions Kontor writes; .09 is the default, .03 for banks that still need it. */
export const pain001Versions = ['pain.001.001.09', 'pain.001.001.03'] as const;
export type Pain001Version = (typeof pain001Versions)[number];

/** The account the order is paid from, as the bank knows it. */
export interface Pain001Debtor {
  name: string;
  iban: string;
  bic?: string;
}

export interface WritePain001Options {
  /** Message version; defaults to pain.001.001.09. */
  version?: Pain001Version;
  /** GrpHdr/CreDtTm; a parameter so the same order always gives the same file. */
  creationDateTime: Date;
  /** GrpHdr/MsgId; defaults to the order id. The bank rejects a MsgId it has seen before, so the caller keeps it unique. */
  messageId?: string;
  /** PmtInf/PmtInfId; defaults to the order id. */
  paymentInfoId?: string;
  /** GrpHdr/InitgPty/Nm; defaults to the debtor's name. */
  initiatingPartyName?: string;
  /** PmtInf/BtchBookg: true asks for one booking of the total, false for one per transfer. Omitted when undefined. */
  batchBooking?: boolean;
}

/** Totals of a written file, for the caller to record next to it. */
export interface Pain001Summary {
  messageId: string;
  paymentInfoId: string;
  numberOfTransactions: number;
  controlSum: string;
}

const NAMESPACE: Record<Pain001Version, string> = {
  'pain.001.001.09': 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09',
  'pain.001.001.03': 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.03',
};

// EPC132-08 AT-E001/AT-P001: party names are limited to 70 characters in SEPA, although the XSD allows 140.
const SEPA_NAME_LENGTH = 70;
// EPC132-08 AT-T008: amounts from 0.01 up to 999,999,999.99 EUR.
const SEPA_MAX_AMOUNT = 99_999_999_999n;

function dateTimeText(at: Date): string {
  // xs:dateTime; milliseconds carry nothing for the bank and some reject them.
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function agent(version: Pain001Version, bic: string | undefined): XmlNode {
  // EPC: without a BIC the debtor agent is "NOTPROVIDED" in Othr/Id (IBAN-only rule, SEPA Regulation 260/2012 Art. 5(7)).
  const id =
    bic === undefined
      ? element('Othr', [textElement('Id', 'NOTPROVIDED')])
      : textElement(version === 'pain.001.001.09' ? 'BICFI' : 'BIC', bic);
  return element('FinInstnId', [id]);
}

function remittance(line: PaymentOrderLine): XmlNode | undefined {
  const reference = line.creditorReference?.replace(/\s+/g, '').toUpperCase();
  if (reference !== undefined && isRfCreditorReference(reference)) {
    // EPC132-08 AT-T009: structured remittance only carries an ISO 11649 reference, typed SCOR; Ustrd and Strd are exclusive.
    return element('RmtInf', [
      element('Strd', [
        element('CdtrRefInf', [
          element('Tp', [element('CdOrPrtry', [textElement('Cd', 'SCOR')])]),
          textElement('Ref', reference),
        ]),
      ]),
    ]);
  }
  // A non-RF reference cannot be structured, so it leads the 140-character unstructured text.
  const parts = [line.creditorReference, line.remittance ?? line.invoiceIds.join(', ')].filter(
    (p): p is string => p !== undefined && p.trim() !== '',
  );
  const text = toSepaText(parts.join(' '), 140);
  return text === '' ? undefined : element('RmtInf', [textElement('Ustrd', text)]);
}

function checkIdentifier(issues: FieldIssue[], path: string, id: string): void {
  const problem = sepaIdentifierProblem(id);
  if (problem !== undefined) issues.push({ path, message: `identifier "${id}" ${problem}` });
}

function sepaName(issues: FieldIssue[], path: string, name: string): string {
  const text = toSepaText(name, SEPA_NAME_LENGTH);
  if (text === '')
    issues.push({
      path,
      message: `name "${name}" has no character that the SEPA character set can represent`,
    });
  return text;
}

function checkAmount(
  issues: FieldIssue[],
  path: string,
  amount: Money,
  order: PaymentOrder,
  sepa: boolean,
): void {
  if (amount.currency !== order.currency)
    issues.push({ path, message: `amount is in ${amount.currency} but the order is in ${order.currency}` });
  if (amount.amount <= 0n) issues.push({ path, message: `amount ${formatMoney(amount)} is not positive` });
  if (sepa && amount.amount > SEPA_MAX_AMOUNT)
    issues.push({ path, message: `amount ${formatMoney(amount)} is above the SEPA maximum 999999999.99` });
}

/**
 * Writes a pain.001 credit transfer initiation for `order` from `debtor`'s account; throws a
 * ValidationError (PAYMENT_FILE_INVALID) listing every line that breaks a SEPA or XSD rule.
 */
export function writePain001(
  order: PaymentOrder,
  debtor: Pain001Debtor,
  options: WritePain001Options,
): string {
  return writePain001WithSummary(order, debtor, options).xml;
}

/** Same as {@link writePain001}, also returning the ids and totals written. */
export function writePain001WithSummary(
  order: PaymentOrder,
  debtor: Pain001Debtor,
  options: WritePain001Options,
): { xml: string; summary: Pain001Summary } {
  const version = options.version ?? 'pain.001.001.09';
  const sepa = order.currency === 'EUR';
  const issues: FieldIssue[] = [];
  const messageId = options.messageId ?? order.id;
  const paymentInfoId = options.paymentInfoId ?? order.id;
  checkIdentifier(issues, 'messageId', messageId);
  checkIdentifier(issues, 'paymentInfoId', paymentInfoId);
  if (Number.isNaN(options.creationDateTime.getTime()))
    issues.push({ path: 'creationDateTime', message: 'is not a valid date' });
  if (order.lines.length === 0) issues.push({ path: 'lines', message: 'an order needs at least one line' });

  const debtorIbanProblem = ibanProblem(debtor.iban);
  if (debtorIbanProblem !== undefined)
    issues.push({ path: 'debtor.iban', message: `invalid IBAN: ${debtorIbanProblem}` });
  const debtorIban = debtor.iban.replace(/\s+/g, '').toUpperCase();
  let debtorBic: string | undefined;
  if (debtor.bic !== undefined) {
    try {
      debtorBic = parseBic(debtor.bic);
    } catch (e) {
      issues.push({ path: 'debtor.bic', message: e instanceof Error ? e.message : String(e) });
    }
  }
  const debtorName = sepaName(issues, 'debtor.name', debtor.name);
  const initiatingName = sepaName(issues, 'initiatingPartyName', options.initiatingPartyName ?? debtor.name);

  const seen = new Set<string>();
  let total = 0n;
  const transactions: XmlNode[] = [];
  order.lines.forEach((line, i) => {
    const path = `lines.${i}`;
    checkIdentifier(issues, `${path}.endToEndId`, line.endToEndId);
    // The EndToEndId ties every pain.002 status and bank line back to the bill, so it must be unique in the file.
    if (seen.has(line.endToEndId))
      issues.push({ path: `${path}.endToEndId`, message: `duplicate EndToEndId "${line.endToEndId}"` });
    seen.add(line.endToEndId);
    checkAmount(issues, `${path}.amount`, line.amount, order, sepa);
    const reference = line.creditorReference?.replace(/\s+/g, '').toUpperCase();
    if (reference?.startsWith('RF') === true && !isRfCreditorReference(reference)) {
      issues.push({
        path: `${path}.creditorReference`,
        message: `"${line.creditorReference}" looks like an RF reference but its check digits are wrong (ISO 11649)`,
      });
    }
    total += line.amount.amount;
    const name = sepaName(issues, `${path}.vendorName`, line.vendorName);
    // Depth 3: Document/CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf.
    transactions.push(
      printXmlFragment(
        element('CdtTrfTxInf', [
          element('PmtId', [textElement('EndToEndId', line.endToEndId)]),
          element('Amt', [textElement('InstdAmt', formatMoney(line.amount), { Ccy: line.amount.currency })]),
          line.creditorBic === undefined ? undefined : element('CdtrAgt', [agent(version, line.creditorBic)]),
          element('Cdtr', [textElement('Nm', name)]),
          element('CdtrAcct', [element('Id', [textElement('IBAN', line.creditorIban)])]),
          remittance(line),
        ]),
        3,
      ),
    );
  });
  if (issues.length > 0) {
    const first = issues[0];
    throw new ValidationError(
      `cannot write pain.001 for order ${order.id}: ${first?.path} ${first?.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
      issues,
      {
        code: ErrorCodes.PAYMENT_FILE_INVALID,
      },
    );
  }

  const numberOfTransactions = String(order.lines.length);
  // CtrlSum is the exact decimal sum of the InstdAmt values (ISO 20022 GrpHdr/CtrlSum), never a float.
  const controlSum = formatMoney(money(total, order.currency));
  const executionDate =
    version === 'pain.001.001.09'
      ? element('ReqdExctnDt', [textElement('Dt', order.executionDate)])
      : textElement('ReqdExctnDt', order.executionDate);

  const root = element(
    'Document',
    [
      element('CstmrCdtTrfInitn', [
        element('GrpHdr', [
          textElement('MsgId', messageId),
          textElement('CreDtTm', dateTimeText(options.creationDateTime)),
          textElement('NbOfTxs', numberOfTransactions),
          textElement('CtrlSum', controlSum),
          element('InitgPty', [textElement('Nm', initiatingName)]),
        ]),
        element('PmtInf', [
          textElement('PmtInfId', paymentInfoId),
          textElement('PmtMtd', 'TRF'),
          options.batchBooking === undefined
            ? undefined
            : textElement('BtchBookg', String(options.batchBooking)),
          textElement('NbOfTxs', numberOfTransactions),
          textElement('CtrlSum', controlSum),
          sepa ? element('PmtTpInf', [element('SvcLvl', [textElement('Cd', 'SEPA')])]) : undefined,
          executionDate,
          element('Dbtr', [textElement('Nm', debtorName)]),
          element('DbtrAcct', [element('Id', [textElement('IBAN', debtorIban)])]),
          element('DbtrAgt', [agent(version, debtorBic)]),
          // EPC132-08 AT-T007: SEPA transfers are always "following service level".
          sepa ? textElement('ChrgBr', 'SLEV') : undefined,
          ...transactions,
        ]),
      ]),
    ],
    { xmlns: NAMESPACE[version] },
  );
  return {
    xml: printXmlDocument(root),
    summary: { messageId, paymentInfoId, numberOfTransactions: order.lines.length, controlSum },
  };
}

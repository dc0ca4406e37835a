/**
 * pain.002 (Customer Payment Status Report) parser: streams the XML with saxes (which never
 * expands entities) and returns the group, payment-information and transaction statuses with
 * their reason codes in words. Reads .001.03 (and the Swiss .03.ch.02), .001.10, .001.11 and
 * later versions: the elements Kontor needs kept their names and places across them.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { type ErrorCode, ErrorCodes, err, ok, type Result, ValidationError } from '../../../domain/index.ts';
import { describePaymentStatus, describeStatusReason, type StatusOutcome } from './codes.ts';

/** One StsRsnInf: a coded or proprietary reason, its words and the bank's free text. */
export interface StatusReason {
  code?: string;
  proprietary?: string;
  /** Words for `code` from the ISO table, or the proprietary code as given. */
  description?: string;
  additionalInfo: string[];
  originatorName?: string;
  originatorBic?: string;
}

/** One TxInfAndSts: the status of one original transfer, found again by its EndToEndId. */
export interface TransactionStatusReport {
  statusId?: string;
  originalInstructionId?: string;
  originalEndToEndId?: string;
  originalUetr?: string;
  status?: string;
  reasons: StatusReason[];
  acceptanceDateTime?: string;
  /** OrgnlTxRef/Amt/InstdAmt as written, exact decimal text and currency. */
  originalAmount?: { amount: string; currency: string };
  requestedExecutionDate?: string;
}

/** One OrgnlPmtInfAndSts: the status of one original payment information block. */
export interface PaymentInfoStatusReport {
  originalPaymentInfoId?: string;
  originalNumberOfTransactions?: string;
  originalControlSum?: string;
  status?: string;
  reasons: StatusReason[];
  transactions: TransactionStatusReport[];
}

/** A parsed pain.002 status report. */
export interface Pain002Report {
  /** Message version from the namespace, e.g. "pain.002.001.03", or "unversioned" when the file has none. */
  version: string;
  namespace: string;
  messageId?: string;
  creationDateTime?: string;
  originalMessageId?: string;
  originalMessageNameId?: string;
  originalNumberOfTransactions?: string;
  originalControlSum?: string;
  groupStatus?: string;
  groupReasons: StatusReason[];
  numberOfTransactionsPerStatus: { status: string; count: string }[];
  paymentInfos: PaymentInfoStatusReport[];
  /** Things that were tolerated but worth a look (no namespace, unknown codes). */
  warnings: string[];
}

/** A pain.002 file that cannot be read: the reason, where, and a catalogue code. */
export class StatusReportParseError extends ValidationError {
  readonly reason: string;
  readonly line: number | undefined;
  readonly path: string | undefined;

  constructor(
    reason: string,
    location: { line?: number; path?: string } = {},
    code: ErrorCode = ErrorCodes.STATUS_REPORT_PARSE_FAILED,
    cause?: unknown,
  ) {
    const where = [
      location.line === undefined ? '' : `line ${location.line}`,
      location.path === undefined ? '' : `at ${location.path}`,
    ]
      .filter((s) => s !== '')
      .join(' ');
    super(
      where === '' ? reason : `${reason} (${where})`,
      [
        {
          path: location.path ?? '',
          message: reason,
          ...(location.line === undefined ? {} : { line: location.line }),
        },
      ],
      {
        code,
        cause,
        details: { location },
      },
    );
    this.name = 'StatusReportParseError';
    this.reason = reason;
    this.line = location.line;
    this.path = location.path;
  }
}

export interface ParsePain002Options {
  /** Refuse larger inputs (characters); defaults to 50 MB, far above any real status report. */
  maxLength?: number;
}

const VERSION_IN_NAMESPACE = /pain\.002\.\d{3}\.\d{2}(?:\.ch\.\d{2})?/;

function reasonDescription(reason: StatusReason): StatusReason {
  if (reason.code !== undefined) return { ...reason, description: describeStatusReason(reason.code) };
  if (reason.proprietary !== undefined)
    return { ...reason, description: `proprietary reason ${reason.proprietary}` };
  return reason;
}

/**
 * Parses a pain.002 status report. A DOCTYPE is refused (XML_DOCTYPE_FORBIDDEN), a namespace other
 * than pain.002 is refused (XML_NAMESPACE_UNSUPPORTED), and a file with no namespace is accepted
 * only when it carries at least one status, since nothing else says it is a status report.
 */
export function parsePain002(
  xml: string,
  options: ParsePain002Options = {},
): Result<Pain002Report, StatusReportParseError> {
  const maxLength = options.maxLength ?? 50_000_000;
  if (xml.length > maxLength)
    return err(
      new StatusReportParseError(
        `the file has ${xml.length} characters, more than the limit of ${maxLength}`,
        {},
        ErrorCodes.FILE_TOO_LARGE,
      ),
    );

  const parser = new SaxesParser({ xmlns: true, position: true });
  const path: string[] = [];
  let text = '';
  let failure: StatusReportParseError | undefined;
  const report: Pain002Report = {
    version: 'unversioned',
    namespace: '',
    groupReasons: [],
    numberOfTransactionsPerStatus: [],
    paymentInfos: [],
    warnings: [],
  };
  let paymentInfo: PaymentInfoStatusReport | undefined;
  let transaction: TransactionStatusReport | undefined;
  let reason: StatusReason | undefined;
  let perStatus: { status: string; count: string } | undefined;
  let amountCurrency: string | undefined;

  const here = (): { line: number; path: string } => ({ line: parser.line, path: path.join('/') });
  const fail = (
    message: string,
    code: ErrorCode = ErrorCodes.STATUS_REPORT_PARSE_FAILED,
    cause?: unknown,
  ): void => {
    failure ??= new StatusReportParseError(message, here(), code, cause);
  };

  parser.on('doctype', () => {
    // A DTD can define entities (billion laughs, XXE); bank files never need one.
    fail(
      'the file declares a DOCTYPE, which status reports never need and Kontor refuses',
      ErrorCodes.XML_DOCTYPE_FORBIDDEN,
    );
  });
  parser.on('error', (e) => {
    fail(`not well-formed XML: ${e.message}`, ErrorCodes.STATUS_REPORT_PARSE_FAILED, e);
  });
  parser.on('text', (t) => {
    text += t;
  });
  parser.on('cdata', (t) => {
    text += t;
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    text = '';
    const depth = path.length;
    path.push(tag.local);
    if (depth === 0) {
      if (tag.local !== 'Document') return fail(`the root element is <${tag.name}>, not <Document>`);
      report.namespace = tag.uri;
      if (tag.uri === '') {
        // Some exporters write "Xmlns" (capital X), which XML treats as a plain attribute, not a namespace.
        const hint = Object.values(tag.attributes).find(
          (a) => a.local.toLowerCase() === 'xmlns' && VERSION_IN_NAMESPACE.test(a.value),
        );
        const hinted = hint === undefined ? undefined : VERSION_IN_NAMESPACE.exec(hint.value)?.[0];
        if (hinted !== undefined) report.version = hinted;
        report.warnings.push(
          hinted === undefined
            ? 'the Document has no namespace'
            : `the Document has no namespace; its "${hint?.name}" attribute suggests ${hinted}`,
        );
        return undefined;
      }
      const version = VERSION_IN_NAMESPACE.exec(tag.uri)?.[0];
      if (version === undefined)
        return fail(
          `namespace "${tag.uri}" is not a pain.002 namespace`,
          ErrorCodes.XML_NAMESPACE_UNSUPPORTED,
        );
      report.version = version;
      return undefined;
    }
    if (depth === 1 && tag.local !== 'CstmrPmtStsRpt')
      return fail(`<${tag.local}> is not a customer payment status report (expected <CstmrPmtStsRpt>)`);
    const parent = path[depth - 1];
    switch (tag.local) {
      case 'OrgnlPmtInfAndSts':
        paymentInfo = { reasons: [], transactions: [] };
        report.paymentInfos.push(paymentInfo);
        break;
      case 'TxInfAndSts':
        transaction = { reasons: [] };
        if (paymentInfo === undefined) {
          // pain.002.001.02 and some banks put transactions straight under the report; keep them in an anonymous block.
          paymentInfo = { reasons: [], transactions: [] };
          report.paymentInfos.push(paymentInfo);
        }
        paymentInfo.transactions.push(transaction);
        break;
      case 'StsRsnInf':
        reason = { additionalInfo: [] };
        if (parent === 'TxInfAndSts' && transaction !== undefined) transaction.reasons.push(reason);
        else if (parent === 'OrgnlPmtInfAndSts' && paymentInfo !== undefined)
          paymentInfo.reasons.push(reason);
        else if (parent === 'OrgnlGrpInfAndSts') report.groupReasons.push(reason);
        break;
      case 'NbOfTxsPerSts':
        perStatus = { status: '', count: '' };
        if (parent === 'OrgnlGrpInfAndSts') report.numberOfTransactionsPerStatus.push(perStatus);
        break;
      case 'InstdAmt':
        amountCurrency = tag.attributes['Ccy']?.value;
        break;
      default:
        break;
    }
    return undefined;
  });
  parser.on('closetag', () => {
    const name = path[path.length - 1];
    const parent = path[path.length - 2];
    const value = text.trim();
    text = '';
    if (name === undefined) return;
    if (parent === 'GrpHdr') {
      if (name === 'MsgId') report.messageId = value;
      else if (name === 'CreDtTm') report.creationDateTime = value;
    } else if (parent === 'OrgnlGrpInfAndSts') {
      if (name === 'OrgnlMsgId') report.originalMessageId = value;
      else if (name === 'OrgnlMsgNmId') report.originalMessageNameId = value;
      else if (name === 'OrgnlNbOfTxs') report.originalNumberOfTransactions = value;
      else if (name === 'OrgnlCtrlSum') report.originalControlSum = value;
      else if (name === 'GrpSts') report.groupStatus = value;
    } else if (parent === 'OrgnlPmtInfAndSts' && paymentInfo !== undefined) {
      if (name === 'OrgnlPmtInfId') paymentInfo.originalPaymentInfoId = value;
      else if (name === 'OrgnlNbOfTxs') paymentInfo.originalNumberOfTransactions = value;
      else if (name === 'OrgnlCtrlSum') paymentInfo.originalControlSum = value;
      else if (name === 'PmtInfSts') paymentInfo.status = value;
    } else if (parent === 'TxInfAndSts' && transaction !== undefined) {
      if (name === 'StsId') transaction.statusId = value;
      else if (name === 'OrgnlInstrId') transaction.originalInstructionId = value;
      else if (name === 'OrgnlEndToEndId') transaction.originalEndToEndId = value;
      else if (name === 'OrgnlUETR') transaction.originalUetr = value;
      else if (name === 'TxSts') transaction.status = value;
      else if (name === 'AccptncDtTm') transaction.acceptanceDateTime = value;
    } else if (
      name === 'InstdAmt' &&
      parent === 'Amt' &&
      path[path.length - 3] === 'OrgnlTxRef' &&
      transaction !== undefined
    ) {
      transaction.originalAmount = { amount: value, currency: amountCurrency ?? '' };
    } else if (parent === 'OrgnlTxRef' && transaction !== undefined && name === 'ReqdExctnDt') {
      transaction.requestedExecutionDate = value;
    } else if (
      path[path.length - 3] === 'OrgnlTxRef' &&
      parent === 'ReqdExctnDt' &&
      transaction !== undefined
    ) {
      // pain.002.001.10 wraps the date in a Dt/DtTm choice.
      transaction.requestedExecutionDate = value;
    } else if (parent === 'Rsn' && reason !== undefined) {
      if (name === 'Cd') reason.code = value;
      else if (name === 'Prtry') reason.proprietary = value;
    } else if (parent === 'StsRsnInf' && reason !== undefined && name === 'AddtlInf') {
      reason.additionalInfo.push(value);
    } else if (path.includes('Orgtr') && path.includes('StsRsnInf') && reason !== undefined) {
      if (name === 'Nm' && parent === 'Orgtr') reason.originatorName = value;
      else if (name === 'BICOrBEI' || name === 'AnyBIC') reason.originatorBic = value;
    } else if (parent === 'NbOfTxsPerSts' && perStatus !== undefined) {
      if (name === 'DtldNbOfTxs') perStatus.count = value;
      else if (name === 'DtldSts') perStatus.status = value;
    }
    if (name === 'TxInfAndSts') transaction = undefined;
    else if (name === 'OrgnlPmtInfAndSts') paymentInfo = undefined;
    else if (name === 'StsRsnInf') reason = undefined;
    path.pop();
  });

  try {
    parser.write(xml).close();
  } catch (e) {
    fail(
      `not well-formed XML: ${e instanceof Error ? e.message : String(e)}`,
      ErrorCodes.STATUS_REPORT_PARSE_FAILED,
      e,
    );
  }
  if (failure !== undefined) return err(failure);
  if (
    report.namespace === '' &&
    report.version === 'unversioned' &&
    path.length === 0 &&
    report.messageId === undefined
  ) {
    return err(new StatusReportParseError('the file is empty or has no <Document>'));
  }

  const statuses = [
    report.groupStatus,
    ...report.paymentInfos.flatMap((p) => [p.status, ...p.transactions.map((t) => t.status)]),
  ].filter((s): s is string => s !== undefined && s !== '');
  if (report.namespace === '' && statuses.length === 0) {
    return err(
      new StatusReportParseError(
        'the Document has no namespace and carries no status (GrpSts, PmtInfSts or TxSts), so it is not a recognisable pain.002 report',
      ),
    );
  }
  if (report.messageId === undefined || report.messageId === '')
    return err(
      new StatusReportParseError('GrpHdr/MsgId is missing', { path: 'Document/CstmrPmtStsRpt/GrpHdr' }),
    );
  // A bank that could not read our file cannot name its MsgId (Cross River's batch rejection does this), so it is a warning.
  if (report.originalMessageId === undefined)
    report.warnings.push(
      'OrgnlGrpInfAndSts/OrgnlMsgId is missing: the report cannot be tied to a file by id',
    );
  for (const s of new Set(statuses)) {
    if (describePaymentStatus(s).outcome === 'unknown')
      report.warnings.push(`status code ${s} is not in Kontor's status table`);
  }

  report.groupReasons = report.groupReasons.map(reasonDescription);
  for (const p of report.paymentInfos) {
    p.reasons = p.reasons.map(reasonDescription);
    for (const t of p.transactions) t.reasons = t.reasons.map(reasonDescription);
  }
  return ok(report);
}

/** The status that applies to one original transfer, with its words and outcome. */
export interface ResolvedTransactionStatus {
  originalEndToEndId?: string;
  originalPaymentInfoId?: string;
  status: string;
  /** Which level the status came from: the transaction itself, or inherited from its block or the group. */
  level: 'transaction' | 'payment-info' | 'group';
  outcome: StatusOutcome;
  description: string;
  reasons: StatusReason[];
}

/**
 * Flattens a report to one status per reported transaction; a transaction without TxSts takes its
 * block's PmtInfSts, then the GrpSts (ISO 20022 MDR pain.002: lower levels refine higher ones).
 */
export function resolveTransactionStatuses(report: Pain002Report): ResolvedTransactionStatus[] {
  const out: ResolvedTransactionStatus[] = [];
  for (const p of report.paymentInfos) {
    for (const t of p.transactions) {
      const [status, level, reasons] =
        t.status !== undefined
          ? ([t.status, 'transaction', t.reasons] as const)
          : p.status !== undefined
            ? ([p.status, 'payment-info', p.reasons] as const)
            : ([report.groupStatus ?? '', 'group', report.groupReasons] as const);
      if (status === '') continue;
      const info = describePaymentStatus(status);
      out.push({
        ...(t.originalEndToEndId === undefined ? {} : { originalEndToEndId: t.originalEndToEndId }),
        ...(p.originalPaymentInfoId === undefined ? {} : { originalPaymentInfoId: p.originalPaymentInfoId }),
        status,
        level,
        outcome: info.outcome,
        description: info.description,
        reasons: [...reasons],
      });
    }
  }
  return out;
}

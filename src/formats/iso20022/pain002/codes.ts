/**
 * ISO 20022 external code sets used in pain.002, explained in words: transaction statuses
 * (ExternalPaymentTransactionStatus1Code, plus the EPC Verification of Payee codes) and status
 * reasons (ExternalStatusReason1Code). Source: ISO 20022 External Code Sets, and the EPC
 * SCT/SDD rulebooks' R-transaction reason lists.
 */

/** What a status means for the payment run: money moved, will move, might move, or will not. */
export type StatusOutcome =
  | 'settled'
  | 'accepted'
  | 'pending'
  | 'partial'
  | 'rejected'
  | 'cancelled'
  | 'payee-verification'
  | 'unknown';

/** One status code with its ISO name, its words and its outcome. */
export interface StatusCodeInfo {
  name: string;
  description: string;
  outcome: StatusOutcome;
}

/** ExternalPaymentTransactionStatus1Code and the EPC Verification of Payee result codes. */
export const paymentStatusCodes: Readonly<Record<string, StatusCodeInfo>> = Object.freeze({
  ACCC: {
    name: 'AcceptedSettlementCompletedCreditorAccount',
    description: 'settled: the amount is on the creditor account',
    outcome: 'settled',
  },
  ACSC: {
    name: 'AcceptedSettlementCompleted',
    description: 'settled: the debtor account has been debited',
    outcome: 'settled',
  },
  ACSP: {
    name: 'AcceptedSettlementInProcess',
    description: 'accepted: all checks passed and settlement is in progress',
    outcome: 'accepted',
  },
  ACCP: {
    name: 'AcceptedCustomerProfile',
    description: 'accepted: technical checks and the customer profile check passed',
    outcome: 'accepted',
  },
  ACTC: {
    name: 'AcceptedTechnicalValidation',
    description: 'accepted: syntax and semantics are valid; not yet checked against the account',
    outcome: 'accepted',
  },
  ACWC: {
    name: 'AcceptedWithChange',
    description: 'accepted, but the bank changed something (e.g. the execution date)',
    outcome: 'accepted',
  },
  ACWP: {
    name: 'AcceptedWithoutPosting',
    description: 'accepted, but the amount is not yet posted to the creditor account',
    outcome: 'accepted',
  },
  ACFC: {
    name: 'AcceptedFundsChecked',
    description: 'accepted: technical checks, customer profile and funds check passed',
    outcome: 'accepted',
  },
  ACIS: {
    name: 'AcceptedandChequeIssued',
    description: 'accepted and a cheque has been issued',
    outcome: 'accepted',
  },
  RCVD: { name: 'Received', description: 'received by the bank, not yet checked', outcome: 'pending' },
  PDNG: {
    name: 'Pending',
    description: 'pending: further checks and a status update will follow',
    outcome: 'pending',
  },
  PRES: {
    name: 'Presented',
    description: 'presented to the clearing, awaiting an answer',
    outcome: 'pending',
  },
  PART: {
    name: 'PartiallyAccepted',
    description: 'some transactions of the batch were accepted, others rejected',
    outcome: 'partial',
  },
  PATC: {
    name: 'PartiallyAcceptedTechnicalCorrect',
    description: 'partially accepted: the batch is technically correct but some transactions were rejected',
    outcome: 'partial',
  },
  RJCT: { name: 'Rejected', description: 'rejected: the payment will not be executed', outcome: 'rejected' },
  BLCK: {
    name: 'Blocked',
    description: 'blocked: the funds are held (e.g. sanctions screening) and will not be paid now',
    outcome: 'rejected',
  },
  CANC: { name: 'Cancelled', description: 'cancelled after a cancellation request', outcome: 'cancelled' },
  // EPC Verification of Payee (VOP rulebook, Regulation (EU) 2024/886): the name check before release.
  RCVC: {
    name: 'VerificationMatch',
    description: 'payee verification: the name matches the account holder',
    outcome: 'payee-verification',
  },
  RVMC: {
    name: 'VerificationCloseMatch',
    description: 'payee verification: the name is close to the account holder name',
    outcome: 'payee-verification',
  },
  RVNM: {
    name: 'VerificationNoMatch',
    description: 'payee verification: the name does not match the account holder',
    outcome: 'payee-verification',
  },
  RVNA: {
    name: 'VerificationNotApplicable',
    description: 'payee verification could not be performed',
    outcome: 'payee-verification',
  },
});

/** ExternalStatusReason1Code: why a status was given, in words a finance team understands. */
export const statusReasonCodes: Readonly<Record<string, { name: string; description: string }>> =
  Object.freeze({
    AB05: { name: 'TimeoutCreditorAgent', description: 'the creditor bank did not answer in time' },
    AB06: { name: 'TimeoutInstructedAgent', description: 'the instructed bank did not answer in time' },
    AB08: { name: 'OfflineCreditorAgent', description: 'the creditor bank is not reachable' },
    AC01: {
      name: 'IncorrectAccountNumber',
      description: 'incorrect account number (format of the IBAN is wrong)',
    },
    AC02: {
      name: 'InvalidDebtorAccountNumber',
      description: 'the debtor account number is invalid or missing',
    },
    AC03: {
      name: 'InvalidCreditorAccountNumber',
      description: 'the creditor account number is invalid or missing',
    },
    AC04: {
      name: 'ClosedAccountNumber',
      description: 'closed account: the account number is closed on the bank’s books',
    },
    AC05: { name: 'ClosedDebtorAccountNumber', description: 'the debtor account is closed' },
    AC06: {
      name: 'BlockedAccount',
      description: 'the account is blocked: no payments may be made to or from it',
    },
    AC07: { name: 'ClosedCreditorAccountNumber', description: 'the creditor account is closed' },
    AC13: {
      name: 'InvalidDebtorAccountType',
      description:
        'the debtor account is a consumer account where a business account is required (or vice versa)',
    },
    AG01: {
      name: 'TransactionForbidden',
      description: 'this transaction is not allowed on this kind of account',
    },
    AG02: { name: 'InvalidBankOperationCode', description: 'the bank operation code is invalid' },
    AG03: {
      name: 'TransactionNotSupported',
      description: 'the transaction type is not supported by the bank',
    },
    AM01: { name: 'ZeroAmount', description: 'the amount is zero' },
    AM02: { name: 'NotAllowedAmount', description: 'the amount is above the maximum the bank allows' },
    AM03: { name: 'NotAllowedCurrency', description: 'the currency is not allowed for this payment' },
    AM04: { name: 'InsufficientFunds', description: 'insufficient funds on the debtor account' },
    AM05: { name: 'Duplication', description: 'duplicate payment: the bank has already received this one' },
    AM06: { name: 'TooLowAmount', description: 'the amount is below the minimum the bank allows' },
    AM07: { name: 'BlockedAmount', description: 'the amount is blocked by a regulatory authority' },
    AM09: { name: 'WrongAmount', description: 'the amount is not what was agreed or expected' },
    AM10: { name: 'InvalidControlSum', description: 'the control sum does not match the sum of the amounts' },
    AM18: {
      name: 'InvalidNumberOfTransactions',
      description: 'the number of transactions does not match the transactions sent',
    },
    BE01: {
      name: 'InconsistentWithEndCustomer',
      description: 'the creditor name and account do not belong together',
    },
    BE04: { name: 'MissingCreditorAddress', description: 'the creditor address is missing or incorrect' },
    BE05: {
      name: 'UnrecognisedInitiatingParty',
      description: 'the bank does not know the party that sent the file',
    },
    BE06: { name: 'UnknownEndCustomer', description: 'the end customer is not known to the bank' },
    BE07: { name: 'MissingDebtorAddress', description: 'the debtor address is missing or incorrect' },
    CH03: {
      name: 'RequestedExecutionDateTooFarInFuture',
      description: 'the requested execution date is too far in the future',
    },
    CH04: {
      name: 'RequestedExecutionDateTooFarInPast',
      description: 'the requested execution date is too far in the past',
    },
    CH16: {
      name: 'ElementContentFormallyIncorrect',
      description: 'an element of the file is formally incorrect',
    },
    CH17: { name: 'ElementNotAdmitted', description: 'the file contains an element the bank does not admit' },
    CNOR: {
      name: 'CreditorBankIsNotRegistered',
      description: 'the creditor bank is not reachable in the clearing system',
    },
    CUST: { name: 'RequestedByCustomer', description: 'cancelled at the customer’s request' },
    DNOR: {
      name: 'DebtorBankIsNotRegistered',
      description: 'the debtor bank is not registered in the clearing system',
    },
    DT01: {
      name: 'InvalidDate',
      description: 'invalid date (e.g. the execution date is not a business day)',
    },
    DUPL: { name: 'DuplicatePayment', description: 'duplicate payment' },
    ED05: { name: 'SettlementFailed', description: 'settlement failed' },
    FF01: {
      name: 'InvalidFileFormat',
      description: 'the file format is invalid (syntax error or wrong version)',
    },
    FOCR: { name: 'FollowingCancellationRequest', description: 'returned after a cancellation request' },
    FRAD: { name: 'FraudulentOrigin', description: 'the payment is suspected to be fraudulent' },
    MD01: { name: 'NoMandate', description: 'no valid mandate for this direct debit' },
    MD06: { name: 'RefundRequestByEndCustomer', description: 'the debtor asked for a refund' },
    MD07: { name: 'EndCustomerDeceased', description: 'the account holder is deceased' },
    MS02: {
      name: 'NotSpecifiedReasonCustomerGenerated',
      description: 'refused by the customer, reason not specified',
    },
    MS03: {
      name: 'NotSpecifiedReasonAgentGenerated',
      description: 'reason not specified (refused by the bank)',
    },
    NARR: { name: 'Narrative', description: 'reason given as free text (see additional information)' },
    NOAS: { name: 'NoAnswerFromCustomer', description: 'the beneficiary did not answer' },
    NOOR: {
      name: 'NoOriginalTransactionReceived',
      description: 'the original transaction was never received',
    },
    RC01: { name: 'BankIdentifierIncorrect', description: 'the BIC is incorrect' },
    RF01: { name: 'NotUniqueTransactionReference', description: 'the transaction reference is not unique' },
    RR01: {
      name: 'MissingDebtorAccountOrIdentification',
      description: 'regulatory: the debtor account or identification is missing',
    },
    RR02: {
      name: 'MissingDebtorNameOrAddress',
      description: 'regulatory: the debtor name or address is missing',
    },
    RR03: {
      name: 'MissingCreditorNameOrAddress',
      description: 'regulatory: the creditor name or address is missing',
    },
    RR04: { name: 'RegulatoryReason', description: 'regulatory reason (e.g. sanctions)' },
    SL01: {
      name: 'SpecificServiceOfferedByDebtorAgent',
      description: 'refused by a service of the debtor bank (e.g. a blocking rule the customer set)',
    },
    TM01: { name: 'CutOffTime', description: 'received after the bank’s cut-off time' },
  });

/** Words for a status code: the table's description, or a neutral sentence for codes it does not know. */
export function describePaymentStatus(code: string): StatusCodeInfo {
  return (
    paymentStatusCodes[code] ?? {
      name: code,
      description: `status ${code} (not in Kontor's status table)`,
      outcome: 'unknown',
    }
  );
}

/** Words for a status reason code: the table's description, or a neutral sentence for unknown codes. */
export function describeStatusReason(code: string): string {
  return statusReasonCodes[code]?.description ?? `reason ${code} (not in Kontor's reason table)`;
}

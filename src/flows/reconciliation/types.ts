/** The matching engine's inputs and outputs, independent of Odoo and of any bank format. */
import type { Invoice, Money, StatementLine } from '../../domain/index.ts';

/** A bank statement line as the engine sees it: the canonical line plus where it was booked. */
export type BankLine = Pick<
  StatementLine,
  | 'bookingDate'
  | 'valueDate'
  | 'amount'
  | 'counterparty'
  | 'remittanceInfo'
  | 'creditorReference'
  | 'endToEndId'
  | 'instructedAmount'
  | 'exchangeRate'
> & {
  /** Stable id of the line (the statement line's business key). */
  readonly id: string;
  /** The Kontor bank account the line was booked on. */
  readonly accountId: string;
  /** The legal entity (Odoo company) that owns the account; only its open items are candidates. */
  readonly entityId: string;
};

/** An open item: an invoice, bill or credit note with a residual, in the same shape as the domain Invoice. */
export type OpenItem = Pick<
  Invoice,
  'id' | 'entityId' | 'number' | 'kind' | 'partnerId' | 'amount' | 'residual' | 'dueDate' | 'paymentReference'
>;

/** The rules of the pipeline, in the order they may be configured. */
export type RuleId = 'reference' | 'partner-amount' | 'partner-combination' | 'amount-only';

/** Decision for a line: reconcile now, wait for a person, or put into the exception queue. */
export type MatchStatus = 'auto' | 'proposal' | 'exception';

/** Why a line was not auto-matched. */
export type MatchReason =
  | 'NO_CANDIDATE'
  | 'AMBIGUOUS'
  | 'AMOUNT_MISMATCH'
  | 'CURRENCY_MISMATCH'
  | 'PARTNER_MISMATCH'
  | 'REFERENCE_CHECK_FAILED'
  | 'REFERENCE_CONFLICT'
  | 'PARTIAL_PAYMENT'
  | 'WEAK_EVIDENCE'
  | 'SEARCH_LIMIT_REACHED';

/** The part of a line booked against one open item, signed like the bank line, in the item's currency. */
export interface Allocation {
  readonly itemId: string;
  readonly itemNumber: string;
  readonly amount: Money;
}

/** The difference between the line and its allocations, posted to a write-off account. */
export interface WriteOff {
  readonly amount: Money;
  readonly account: string;
  readonly kind: 'bank-charges' | 'fx-difference';
}

/** The engine's answer for one bank line. */
export interface MatchProposal {
  readonly lineId: string;
  readonly status: MatchStatus;
  /** 0–1; `auto` exactly when it reaches the configured threshold. */
  readonly confidence: number;
  /** Set whenever the status is not `auto`. */
  readonly reason?: MatchReason;
  /** The rule that produced the match, when one did. */
  readonly rule?: RuleId;
  /** The line's amount in the matched items' currency: sum(allocations) + writeOff equals it exactly. */
  readonly lineAmount: Money;
  readonly allocations: readonly Allocation[];
  readonly writeOff?: WriteOff;
  /** Item ids a person may choose from when the engine could not decide. */
  readonly candidateIds?: readonly string[];
  readonly explanation: string;
}

/** Everything besides lines, items and rules that the engine needs; all of it injected, none of it read. */
export interface MatchContext {
  /** Normalised IBAN (upper case, no spaces) → partner id. */
  readonly partnerByIban?: ReadonlyMap<string, string>;
  /** Provided rates, "USD/EUR" → decimal string of EUR per 1 USD, for lines without an instructed amount. */
  readonly rates?: Readonly<Record<string, string>>;
}

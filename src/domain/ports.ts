/**
 * Ports: what flows need from the outside world, as interfaces. Connectors implement them and
 * `main.ts` injects the implementations, so flows never import a concrete adapter.
 */
import type { Money } from './money.ts';

/** One bank statement line to book into an Odoo bank journal. */
export interface StatementLinePosting {
  /** Kontor's id of the line; outcomes refer to it. */
  lineId: string;
  /** Idempotency scope: the same account + statement + entry is booked once, however often it is sent. */
  bankAccountId: string;
  statementId: string;
  entryRef: string;
  date: string;
  amount: Money;
  /** Label of the line in Odoo (remittance information, or the counterparty). */
  paymentRef: string;
  counterpartyName?: string;
  counterpartyIban?: string;
  transactionType?: string;
}

/** What happened to one posted line. */
export type StatementLinePostingOutcome =
  | { lineId: string; status: 'posted'; odooId: number; partnerId?: number }
  | { lineId: string; status: 'failed'; error: string };

/** Books statement lines into Odoo, idempotently; throws a retryable error when Odoo cannot be reached. */
export interface StatementLinePoster {
  postStatementLines(
    target: { companyId: number | undefined; journal: string | number },
    lines: StatementLinePosting[],
  ): Promise<StatementLinePostingOutcome[]>;
}

/** An open invoice, bill or credit note as the reconciliation flow reads it from the ledger. */
export interface LedgerOpenItem {
  /** The ledger's id of the move (Odoo `account.move` id, as text). */
  id: string;
  number: string;
  kind: 'customer_invoice' | 'vendor_bill' | 'customer_credit_note' | 'vendor_credit_note';
  partnerId: string;
  amount: Money;
  /** What is still open, as a magnitude. */
  residual: Money;
  dueDate: string;
  paymentReference?: string;
}

/** Reconcile one booked bank line with open items, each for the amount the engine allocated. */
export interface LedgerReconciliation {
  companyId: number | undefined;
  /** The ledger's id of the bank statement line (Odoo `account.bank.statement.line` id). */
  statementLineId: number;
  allocations: { itemId: string; amount: Money }[];
  writeOff?: { amount: Money; account: string };
}

/** What the ledger did; `writeOffSkipped` when a write-off was asked for but not booked. */
export interface LedgerReconciliationOutcome {
  status: 'reconciled' | 'already_reconciled';
  writeOffSkipped: boolean;
}

/** One bank journal line of the ledger, for the completeness check. */
export interface LedgerJournalLine {
  id: number;
  date: string;
  amount: Money;
}

/** A payment the payment run registered in the ledger, found again by its EndToEndId. */
export interface RegisteredPayment {
  paymentId: number;
  name: string;
  state: string;
  outbound: boolean;
  /** Already matched with a bank statement line. */
  matched: boolean;
  amount: Money;
  partnerId: string;
  /** The bills the payment settled. */
  billIds: string[];
}

/** What the reconciliation flow needs from the ledger (Odoo); throws a retryable error when it cannot be reached. */
export interface ReconciliationLedger {
  listOpenItems(companyId: number | undefined): Promise<LedgerOpenItem[]>;
  /** Normalised IBAN (upper case, no spaces) → partner id. */
  listPartnersByIban(companyId: number | undefined): Promise<Map<string, string>>;
  reconcileLine(request: LedgerReconciliation): Promise<LedgerReconciliationOutcome>;
  undoReconciliation(companyId: number | undefined, statementLineId: number): Promise<void>;
  /** The bank journal's statement lines booked on or before `date`. */
  listJournalLines(
    companyId: number | undefined,
    journal: string | number,
    date: string,
  ): Promise<LedgerJournalLine[]>;
}

/** A posted vendor bill with something left to pay, as the payment run needs it. */
export interface OpenVendorBill {
  /** The bill's id in the ERP (Odoo account.move id, as text). */
  billId: string;
  /** The bill's number (e.g. BILL/2026/00001). */
  number: string;
  vendorId: string;
  vendorName: string;
  /** What is still due (amount_residual), in the bill's currency. */
  amountDue: Money;
  billDate?: string;
  dueDate?: string;
  /** The vendor's payment reference (an RF creditor reference when it is one). */
  paymentReference?: string;
  /** The vendor's bank account (res.partner.bank); absent when the vendor has none. */
  vendorIban?: string;
  vendorBic?: string;
  /** When the vendor was created, when the ERP tells (risk signal: new vendor). */
  vendorCreatedAt?: Date;
  /** When the vendor's bank account last changed, when the ERP tells (risk signal: account changed). */
  bankAccountChangedAt?: Date;
}

/** One outbound payment to register against bills after the bank accepted the transfer. */
export interface VendorPaymentRegistration {
  companyId: number;
  /** The bank journal paid from, by code or id. */
  journal: string | number;
  /** Idempotency key: the same EndToEndId registers one payment, however often it is sent. */
  endToEndId: string;
  vendorId: string;
  billIds: string[];
  amount: Money;
  date: string;
  memo: string;
}

/** Reads open vendor bills and registers their payments in the ERP, idempotently. */
export interface VendorPayables {
  listOpenVendorBills(query: {
    companyId: number;
    currency: string;
    dueBy: string;
  }): Promise<OpenVendorBill[]>;
  registerVendorPayment(input: VendorPaymentRegistration): Promise<{ paymentId: number }>;
}

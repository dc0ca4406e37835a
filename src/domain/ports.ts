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

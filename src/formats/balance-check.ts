/** The balance check: opening balance plus the booked entries must give the closing balance. */
import { type Money, formatMoney } from '../domain/index.ts';
import { StatementUnbalancedError } from './errors.ts';
import type { StatementSummary } from './events.ts';

/** The outcome of checking one statement. */
export type BalanceCheck =
  | { status: 'balanced'; opening: Money; bookedTotal: Money; closing: Money }
  | {
      status: 'unbalanced';
      opening: Money;
      bookedTotal: Money;
      closing: Money;
      difference: Money;
      error: StatementUnbalancedError;
    }
  | { status: 'not-applicable'; reason: string };

/** Checks opening + booked entries = closing for one statement; says why when there is nothing to check. */
export function checkBalance(summary: StatementSummary): BalanceCheck {
  const { openingBalance: opening, closingBalance: closing } = summary;
  if (opening === undefined || closing === undefined) {
    const missing =
      opening === undefined && closing === undefined
        ? 'no opening and no closing balance'
        : opening === undefined
          ? 'no opening balance'
          : 'no closing balance';
    return { status: 'not-applicable', reason: `${summary.kind} ${summary.statementId} states ${missing}` };
  }
  if (summary.otherCurrencies.length > 0) {
    return {
      status: 'not-applicable',
      reason: `${summary.kind} ${summary.statementId} has booked entries in ${summary.otherCurrencies.join(', ')}, not only in the account currency ${summary.account.currency}`,
    };
  }
  if (
    opening.amount.currency !== closing.amount.currency ||
    opening.amount.currency !== summary.bookedTotal.currency
  ) {
    return {
      status: 'not-applicable',
      reason: `balances in ${opening.amount.currency}/${closing.amount.currency} but entries in ${summary.bookedTotal.currency}`,
    };
  }
  const expected = opening.amount.amount + summary.bookedTotal.amount;
  if (expected === closing.amount.amount) {
    return {
      status: 'balanced',
      opening: opening.amount,
      bookedTotal: summary.bookedTotal,
      closing: closing.amount,
    };
  }
  const difference = { amount: closing.amount.amount - expected, currency: closing.amount.currency };
  const message =
    `statement ${summary.statementId} does not balance: opening ${formatMoney(opening.amount)} + booked entries ` +
    `${formatMoney(summary.bookedTotal)} = ${formatMoney({ amount: expected, currency: closing.amount.currency })}, ` +
    `but the closing balance is ${formatMoney(closing.amount)} (difference ${formatMoney(difference)} ${difference.currency})`;
  return {
    status: 'unbalanced',
    opening: opening.amount,
    bookedTotal: summary.bookedTotal,
    closing: closing.amount,
    difference,
    error: new StatementUnbalancedError(message, summary.statementId),
  };
}

/** Throws STATEMENT_UNBALANCED when the statement does not balance; passes when balanced or unchecked. */
export function assertBalanced(summary: StatementSummary): void {
  const result = checkBalance(summary);
  if (result.status === 'unbalanced') throw result.error;
}

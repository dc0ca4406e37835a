/** Finds the configured bank account (and its entity) a statement belongs to. */
import { ErrorCodes, maskIban, ValidationError, type Statement } from '../../domain/index.ts';

/** The part of a configured bank account the import needs. */
export interface ImportAccount {
  id: string;
  entity: string;
  iban?: string | undefined;
  accountNumber?: string | undefined;
  currency: string;
  odooJournal: string | number;
}

/** The part of a configured legal entity the import needs. */
export interface ImportEntity {
  id: string;
  odooCompanyId?: number | undefined;
}

/** Maps the statement's account to a configured one in the same currency, or says which account is unknown. */
export function resolveAccount(
  statement: Pick<Statement, 'account' | 'statementId'>,
  accounts: readonly ImportAccount[],
): ImportAccount {
  const { iban, accountNumber, currency } = statement.account;
  const found =
    (iban !== undefined ? accounts.find((a) => a.iban === iban) : undefined) ??
    (accountNumber !== undefined
      ? accounts.find(
          (a) =>
            a.accountNumber === accountNumber || (a.iban !== undefined && a.iban.endsWith(accountNumber)),
        )
      : undefined);
  const name = iban !== undefined ? `IBAN ${maskIban(iban)}` : `account number ${accountNumber ?? '(none)'}`;
  if (found === undefined) {
    throw new ValidationError(
      `statement ${statement.statementId} is for ${name}, which is not a configured bank account (add it under bankAccounts in kontor.yaml)`,
      [{ path: 'account', message: `unknown account ${name}` }],
      { code: ErrorCodes.STATEMENT_ACCOUNT_UNKNOWN },
    );
  }
  if (found.currency !== currency) {
    throw new ValidationError(
      `statement ${statement.statementId} for ${name} is in ${currency}, but bank account ${found.id} is configured in ${found.currency}`,
      [{ path: 'account.currency', message: `expected ${found.currency}` }],
      { code: ErrorCodes.STATEMENT_CURRENCY_MISMATCH },
    );
  }
  return found;
}

/** Finds the configured bank account (and its entity) a statement belongs to. */
import { ErrorCodes, maskIban, ValidationError, type Statement } from '../../domain/index.ts';
import type { CsvProfileInput } from '../../formats/index.ts';

/** The part of a configured bank account the import needs. */
export interface ImportAccount {
  id: string;
  entity: string;
  iban?: string | undefined;
  accountNumber?: string | undefined;
  currency: string;
  odooJournal: string | number;
  /** How this bank's CSV exports map onto statement lines; needed to import a CSV for this account. */
  csvProfile?: CsvProfileInput | undefined;
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

/** The configured account with this id, or STATEMENT_ACCOUNT_UNKNOWN naming the known ones. */
export function findAccountById(id: string, accounts: readonly ImportAccount[]): ImportAccount {
  const found = accounts.find((a) => a.id === id);
  if (found === undefined) {
    throw new ValidationError(
      `there is no bank account "${id}" in the configuration (known: ${accounts.map((a) => a.id).join(', ') || 'none'})`,
      [{ path: 'account', message: `unknown account ${id}` }],
      { code: ErrorCodes.STATEMENT_ACCOUNT_UNKNOWN },
    );
  }
  return found;
}

/** The CSV profile of an account, or a VALIDATION_FAILED that says where to configure it. */
export function csvProfileOf(account: ImportAccount): CsvProfileInput {
  if (account.csvProfile === undefined) {
    throw new ValidationError(
      `bank account ${account.id} has no csvProfile: add one under bankAccounts in kontor.yaml to import its CSV files`,
      [{ path: `bankAccounts.${account.id}.csvProfile`, message: 'missing' }],
      { code: ErrorCodes.VALIDATION_FAILED },
    );
  }
  return account.csvProfile;
}

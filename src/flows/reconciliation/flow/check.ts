/**
 * The batch checkpoint behind `kontor reconcile check --date`: per bank account, the bank's closing
 * balance against Odoo's bank journal, and the lines one side has and the other has not.
 */
import { money, toMoneyJson } from '../../../domain/index.ts';
import { resolveAccountTarget, type ReconciliationDeps } from './deps.ts';

type MoneyJson = { amount: string; currency: string };

/** The check of one bank account. */
export interface AccountBalanceCheck {
  bankAccountId: string;
  entityId: string;
  /** The latest statement closing on or before the date, if any. */
  bankClosing: { statementId: string; date: string; balance: MoneyJson } | null;
  /**
   * The opening balance of the account's first statement in Kontor: the part of the bank balance
   * that predates Kontor and that Odoo's journal only holds if someone booked it there.
   */
  baseline: MoneyJson;
  /** Sum of the journal's statement lines up to the date. */
  odooJournalBalance: MoneyJson;
  /** bank closing − (baseline + Odoo journal balance); zero when both agree. */
  difference: MoneyJson | null;
  /** Lines Kontor holds (booked up to the date) that Odoo's journal does not (pending, failed or gone). */
  missingInOdoo: {
    lineId: string;
    bookingDate: string;
    amount: MoneyJson;
    odooStatus: string;
    odooLineId: number | null;
  }[];
  /** Journal lines up to the date that no Kontor line points at. */
  unknownToKontor: { odooLineId: number; date: string; amount: MoneyJson }[];
  ok: boolean;
  /** Set when Odoo could not be asked; the account is then not ok. */
  error?: string;
}

/** The whole checkpoint. */
export interface BalanceCheckReport {
  date: string;
  accounts: AccountBalanceCheck[];
  ok: boolean;
}

/** Compares, per configured bank account, Kontor's bank view with Odoo's journal on `date`. */
export async function checkBalances(
  deps: Pick<ReconciliationDeps, 'db' | 'accounts' | 'entities' | 'ledger'>,
  date: string,
): Promise<BalanceCheckReport> {
  const accounts: AccountBalanceCheck[] = [];
  for (const account of deps.accounts) {
    const target = resolveAccountTarget(deps, account.id)!;
    const currency = account.currency;
    const closing = (
      await deps.db.query<{ statement_id: string; closing_date: string; closing_balance: bigint }>(
        `SELECT statement_id, closing_date, closing_balance FROM bank_statements
          WHERE bank_account_id = $1 AND closing_date <= $2 AND closing_balance IS NOT NULL
          ORDER BY closing_date DESC, created_at DESC, id DESC LIMIT 1`,
        [account.id, date],
      )
    ).rows[0];
    const first = (
      await deps.db.query<{ opening_balance: bigint }>(
        `SELECT opening_balance FROM bank_statements
          WHERE bank_account_id = $1 AND opening_balance IS NOT NULL
          ORDER BY opening_date ASC NULLS LAST, created_at ASC, id ASC LIMIT 1`,
        [account.id],
      )
    ).rows[0];
    const baseline = first?.opening_balance ?? 0n;
    const kontorLines = (
      await deps.db.query<{
        id: string;
        booking_date: string;
        amount: bigint;
        odoo_status: string;
        odoo_line_id: bigint | null;
      }>(
        `SELECT id, booking_date, amount, odoo_status, odoo_line_id FROM statement_lines
          WHERE bank_account_id = $1 ORDER BY booking_date, id`,
        [account.id],
      )
    ).rows;
    const base: Omit<
      AccountBalanceCheck,
      'odooJournalBalance' | 'difference' | 'missingInOdoo' | 'unknownToKontor' | 'ok'
    > = {
      bankAccountId: account.id,
      entityId: target.entityId,
      bankClosing:
        closing === undefined
          ? null
          : {
              statementId: closing.statement_id,
              date: closing.closing_date,
              balance: toMoneyJson(money(closing.closing_balance, currency)),
            },
      baseline: toMoneyJson(money(baseline, currency)),
    };
    let journal;
    try {
      journal = await deps.ledger.listJournalLines(target.companyId, account.odooJournal, date);
    } catch (e) {
      accounts.push({
        ...base,
        odooJournalBalance: toMoneyJson(money(0n, currency)),
        difference: null,
        missingInOdoo: [],
        unknownToKontor: [],
        ok: false,
        error: e instanceof Error ? e.message : String(e),
      });
      continue;
    }
    const odooIds = new Set(journal.map((l) => l.id));
    const knownIds = new Set(
      kontorLines.flatMap((l) => (l.odoo_line_id === null ? [] : [Number(l.odoo_line_id)])),
    );
    const odooSum = journal.reduce((a, l) => a + l.amount.amount, 0n);
    const missingInOdoo = kontorLines
      .filter((l) => l.booking_date <= date)
      .filter(
        (l) => l.odoo_status !== 'posted' || l.odoo_line_id === null || !odooIds.has(Number(l.odoo_line_id)),
      )
      .map((l) => ({
        lineId: l.id,
        bookingDate: l.booking_date,
        amount: toMoneyJson(money(l.amount, currency)),
        odooStatus: l.odoo_status,
        odooLineId: l.odoo_line_id === null ? null : Number(l.odoo_line_id),
      }));
    const unknownToKontor = journal
      .filter((l) => !knownIds.has(l.id))
      .map((l) => ({ odooLineId: l.id, date: l.date, amount: toMoneyJson(l.amount) }));
    const difference = closing === undefined ? null : closing.closing_balance - (baseline + odooSum);
    accounts.push({
      ...base,
      odooJournalBalance: toMoneyJson(money(odooSum, currency)),
      difference: difference === null ? null : toMoneyJson(money(difference, currency)),
      missingInOdoo,
      unknownToKontor,
      ok: (difference ?? 0n) === 0n && missingInOdoo.length === 0 && unknownToKontor.length === 0,
    });
  }
  return { date, accounts, ok: accounts.every((a) => a.ok) };
}

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ErrorCodes, formatMoney } from '../../domain/index.ts';
import { csvFixtureProfiles } from '../__fixtures__/csv-profiles.ts';
import { fixtureDir, listFixtures } from '../__fixtures__/fixtures.ts';
import { checkBalance } from '../balance-check.ts';
import { StatementParseError } from '../errors.ts';
import { collectStatements, summarizeStatement } from '../events.ts';
import { readCsvEvents } from './parse.ts';
import { csvProfileSchema } from './profile.ts';

/** CSV fixtures that are not statements of an account, and why. */
const NO_PROFILE: Record<string, string> = {
  'ofxst-dutch__NL99INGB_balance_history.csv': 'daily balances only, no transactions',
};

describe('CSV fixtures with a profile', () => {
  it('has a profile or a stated reason for every CSV fixture', () => {
    for (const file of listFixtures('csv', readdirSync))
      assert.ok(csvFixtureProfiles[file] !== undefined || NO_PROFILE[file] !== undefined, file);
  });

  for (const [file, { profile, account }] of Object.entries(csvFixtureProfiles)) {
    it(`parses ${file}`, async () => {
      assert.ok(csvProfileSchema.safeParse(profile).success);
      const statements = await collectStatements(
        readCsvEvents(readFileSync(fixtureDir('csv') + file), { profile, account, statementId: file }),
      );
      assert.equal(statements.length, 1);
      if (!file.includes('empty')) assert.ok(statements[0]!.lines.length > 0, 'at least one line');
      // A profile with a balance column must balance; without one there is nothing to check.
      const check = checkBalance(summarizeStatement(statements[0]!));
      assert.equal(
        check.status,
        csvProfileSchema.parse(profile).columns.balance === undefined ? 'not-applicable' : 'balanced',
        check.status === 'unbalanced' ? check.error.message : '',
      );
    });
  }

  it('reads latin1, headerless, decimal-comma rows with thousands separators', async () => {
    const { profile, account } = csvFixtureProfiles['ofxst-austrian__easybank-giro.csv']!;
    const [s] = await collectStatements(
      readCsvEvents(readFileSync(`${fixtureDir('csv')}ofxst-austrian__easybank-giro.csv`), {
        profile,
        account,
      }),
    );
    assert.equal(s!.account.accountNumber ?? s!.account.iban, 'AT123456789012345678');
    assert.equal(formatMoney(s!.lines[0]!.amount), '-0.42');
    assert.ok(s!.lines.some((l) => formatMoney(l.amount) === '-1001.00'));
  });

  it('reads separate debit and credit columns', async () => {
    const { profile, account } = csvFixtureProfiles['ofxst-austrian__ing-diba.csv']!;
    const [s] = await collectStatements(
      readCsvEvents(readFileSync(`${fixtureDir('csv')}ofxst-austrian__ing-diba.csv`), { profile, account }),
    );
    assert.equal(formatMoney(s!.lines[0]!.amount), '12.23');
    assert.equal(formatMoney(s!.lines[1]!.amount), '-34.56');
  });

  const read = async (file: string) => {
    const { profile, account } = csvFixtureProfiles[file]!;
    const [s] = await collectStatements(
      readCsvEvents(readFileSync(`${fixtureDir('csv')}${file}`), { profile, account, statementId: file }),
    );
    return s!;
  };

  it('reads the rows of its own currency from a multi-currency export, and rejects others by default', async () => {
    const s = await read('oca-bsi__multi_currency.csv');
    assert.deepEqual(
      s.lines.map((l) => formatMoney(l.amount)),
      ['-33.50'],
    );
    const { profile, account } = csvFixtureProfiles['oca-bsi__multi_currency.csv']!;
    await assert.rejects(
      collectStatements(
        readCsvEvents(readFileSync(`${fixtureDir('csv')}oca-bsi__multi_currency.csv`), {
          profile: { ...profile, otherCurrencyRows: 'reject' },
          account,
        }),
      ),
      /row is in EUR but the profile's account currency is USD/,
    );
    const wise = await read('ofxst-transferwise__sample-statement.csv');
    assert.equal(wise.lines.length, 5);
    assert.equal(wise.lines[0]!.counterparty?.name, 'John Doe', 'payee of a debit');
    assert.equal(wise.lines[2]!.counterparty?.name, 'Friend.', 'payer of a credit');
    // An anonymised IBAN (bad check digits) is kept as an account number.
    assert.equal(wise.lines[0]!.counterparty?.accountNumber, 'LT211111222233334444');
  });

  it('reads a header-less file with an original currency, and a credit card with inverse signs', async () => {
    const [line] = (await read('oca-bsi__original_currency_no_header.csv')).lines;
    assert.equal(formatMoney(line!.amount), '1525.00');
    assert.equal(
      `${formatMoney(line!.instructedAmount!)} ${line!.instructedAmount!.currency}`,
      '1000.00 EUR',
    );
    assert.equal(line!.remittanceInfo, 'Your payment INV0001');
    const card = await read('oca-bsi__sample_statement_credit_card_inverse_sign_en.csv');
    assert.deepEqual(
      card.lines.map((l) => formatMoney(l.amount)),
      ['-33.50', '1525.00'],
    );
  });

  it('reads PayPal activity as the statement of the PayPal balance: net amounts, fees as charges, balanced', async () => {
    const s = await read('oca-bsi__paypal_activity_en.csv');
    assert.equal(formatMoney(s.openingBalance!.amount), '0.00');
    assert.equal(formatMoney(s.closingBalance!.amount), '1.90');
    assert.ok(s.lines.every((l) => l.amount.currency === 'USD'));
    assert.equal(formatMoney(s.lines[0]!.amount), '79.75');
    assert.equal(formatMoney(s.lines[0]!.charges!), '4.25');
    const statement = await read('oca-bsi__paypal_statement_en.csv');
    assert.equal(statement.lines[0]!.bookingDate, '2018-09-04', 'M/D/YYYY');
    assert.equal(statement.lines.length, 11);
  });

  it('reads a running balance of a newest-first export into opening and closing balances', async () => {
    const profile = {
      currency: 'EUR',
      rowOrder: 'newest-first' as const,
      columns: { bookingDate: 'Date', amount: 'Amount', balance: 'Balance' },
    };
    const [s] = await collectStatements(
      readCsvEvents('Date,Amount,Balance\n2024-01-03,-5.00,115.00\n2024-01-02,20.00,120.00\n', {
        profile,
        account: { accountNumber: 'A' },
      }),
    );
    assert.deepEqual(
      [formatMoney(s!.openingBalance!.amount), s!.openingBalance!.date],
      ['100.00', '2024-01-02'],
    );
    assert.deepEqual(
      [formatMoney(s!.closingBalance!.amount), s!.closingBalance!.date],
      ['115.00', '2024-01-03'],
    );
    assert.equal(checkBalance(summarizeStatement(s!)).status, 'balanced');
    const [wrong] = await collectStatements(
      readCsvEvents('Date,Amount,Balance\n2024-01-02,20.00,120.00\n2024-01-03,-5.00,116.00\n', {
        profile: { ...profile, rowOrder: 'oldest-first' as const },
        account: { accountNumber: 'A' },
      }),
    );
    assert.equal(checkBalance(summarizeStatement(wrong!)).status, 'unbalanced');
  });

  it('rejects a malformed amount with its line', async () => {
    const profile = { currency: 'EUR', columns: { bookingDate: 'Date', amount: 'Amount' } };
    await assert.rejects(
      collectStatements(
        readCsvEvents('Date,Amount\n2024-01-01,1.00\n2024-01-02,1e5\n', {
          profile,
          account: { accountNumber: 'A' },
        }),
      ),
      (e: unknown) => {
        assert.ok(e instanceof StatementParseError);
        assert.equal(e.location.line, 3);
        return true;
      },
    );
  });

  it('rejects an invalid profile with the reason', async () => {
    await assert.rejects(
      collectStatements(
        readCsvEvents('a\n', {
          profile: { currency: 'EUR', columns: { bookingDate: 0 } },
          account: { accountNumber: 'A' },
        }),
      ),
      (e: unknown) => {
        assert.ok(e instanceof StatementParseError);
        assert.equal(e.code, ErrorCodes.STATEMENT_PARSE_FAILED);
        assert.match(e.message, /amount column/);
        return true;
      },
    );
  });
});

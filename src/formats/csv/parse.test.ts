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

/** CSV fixtures without a profile yet, and why. */
const NO_PROFILE: Record<string, string> = {
  'oca-bsi__debit_credit_amount.csv': 'Odoo sheet-import layout variant, not written yet',
  'oca-bsi__multi_currency.csv': 'Odoo sheet-import layout variant, not written yet',
  'oca-bsi__original_currency_no_header.csv': 'Odoo sheet-import layout variant, not written yet',
  'oca-bsi__sample_statement_credit_card_inverse_sign_en.csv':
    'Odoo sheet-import layout variant, not written yet',
  'oca-bsi__paypal_activity_en.csv':
    'PSP activity export (gross/fee/net per row), belongs to the PSP connectors',
  'oca-bsi__paypal_statement_en.csv':
    'PSP statement with currency conversions, belongs to the PSP connectors',
  'ofxst-austrian__easybank-creditcard.csv': 'credit-card layout, not written yet',
  'ofxst-austrian__raiffeisen.csv': 'not written yet',
  'ofxst-dutch__NL99INGB_balance_history.csv': 'daily balances only, no transactions',
  'ofxst-transferwise__sample-statement.csv': 'multi-currency Wise export, not written yet',
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
      assert.equal(checkBalance(summarizeStatement(statements[0]!)).status, 'not-applicable');
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

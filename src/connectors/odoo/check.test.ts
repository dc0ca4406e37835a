import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OdooBankJournal } from './client.ts';
import { mapBankAccountsToJournals, readOdooCredentials } from './check.ts';
import { createRfReference } from './sandbox/index.ts';

const journal = (
  id: number,
  code: string,
  accountNumber: string | undefined,
  currency = 'EUR',
): OdooBankJournal => ({
  id,
  name: code,
  code,
  companyId: 1,
  currency,
  bankAccountId: accountNumber ? id : undefined,
  accountNumber,
  suspenseAccountId: 9,
});

test('maps configured bank accounts to journals by IBAN and currency', () => {
  const journals = [
    journal(6, 'BNK1', 'DE89 3704 0044 0532 0130 00'),
    journal(7, 'BNK2', 'NL91ABNA0417164300', 'USD'),
    journal(8, 'CSH', undefined),
  ];
  const result = mapBankAccountsToJournals(
    [
      { iban: 'DE89370400440532013000', currency: 'EUR' },
      { iban: 'NL91ABNA0417164300', currency: 'EUR' },
      { iban: 'AT611904300234573201', currency: 'EUR' },
    ],
    journals,
  );
  assert.equal(result[0]!.journal?.id, 6);
  assert.equal(result[0]!.problem, undefined);
  assert.match(result[1]!.problem ?? '', /books in USD/);
  assert.match(result[2]!.problem ?? '', /no Odoo bank journal/);
});

test('reports an IBAN held by two journals as ambiguous', () => {
  const [m] = mapBankAccountsToJournals(
    [{ iban: 'DE89370400440532013000', currency: 'EUR' }],
    [journal(1, 'A', 'DE89370400440532013000'), journal(2, 'B', 'DE89370400440532013000')],
  );
  assert.match(m!.problem ?? '', /2 journals/);
});

test('reads credentials only when they are complete', () => {
  assert.equal(readOdooCredentials({ ODOO_URL: 'http://x' }), undefined);
  assert.deepEqual(
    readOdooCredentials({ ODOO_URL: 'http://x', ODOO_DB: 'd', ODOO_USER: 'u', ODOO_PASSWORD: 'p' }),
    { url: 'http://x', db: 'd', login: 'u', password: 'p' },
  );
});

test('builds ISO 11649 references with valid check digits', () => {
  assert.equal(createRfReference('539007547034'), 'RF18539007547034');
});

/** CSV mapping profiles for the CSV fixtures in ../shared/fixtures/csv (test data, as a bank's kontor.yaml entry would be). */
import type { CsvProfileInput } from '../csv/profile.ts';

/** Profile per fixture file, with the account the statement belongs to. */
export const csvFixtureProfiles: Record<
  string,
  { profile: CsvProfileInput; account: { iban?: string; accountNumber?: string } }
> = {
  'oca-bsi__sample_statement_en.csv': {
    account: { accountNumber: 'ODOO-SAMPLE' },
    profile: {
      currency: 'USD',
      dateFormat: 'MM/DD/YYYY',
      thousandsSeparator: ',',
      columns: {
        bookingDate: 'Date',
        amount: 'Amount',
        instructedAmount: 'Amount Currency',
        instructedCurrency: 'Currency',
        remittanceInfo: ['Label'],
        counterpartyName: 'Partner Name',
        counterpartyAccount: 'Bank Account',
      },
    },
  },
  'oca-bsi__empty_statement_en.csv': {
    account: { accountNumber: 'ODOO-SAMPLE' },
    profile: {
      currency: 'USD',
      dateFormat: 'MM/DD/YYYY',
      columns: { bookingDate: 'Date', amount: 'Amount' },
    },
  },
  'oca-bsi__balance.csv': {
    account: { accountNumber: 'ODOO-SAMPLE' },
    profile: {
      currency: 'USD',
      dateFormat: 'MM/DD/YYYY',
      thousandsSeparator: ',',
      columns: {
        bookingDate: 'Date',
        amount: 'Amount',
        remittanceInfo: ['Label'],
        counterpartyName: 'Partner Name',
        counterpartyAccount: 'Bank Account',
      },
    },
  },
  'oca-bsi__debit_credit.csv': {
    account: { accountNumber: 'ODOO-SAMPLE' },
    profile: {
      currency: 'USD',
      dateFormat: 'MM/DD/YYYY',
      thousandsSeparator: ',',
      columns: {
        bookingDate: 'Date',
        amount: 'Amount',
        creditDebit: { column: 'D/C', credit: ['C'], debit: ['D'] },
        remittanceInfo: ['Label'],
        counterpartyName: 'Partner Name',
      },
    },
  },
  'ofxst-austrian__easybank-giro.csv': {
    account: {},
    profile: {
      delimiter: ';',
      headerRows: 0,
      encoding: 'latin1',
      dateFormat: 'DD.MM.YYYY',
      decimalSeparator: ',',
      thousandsSeparator: '.',
      currency: 'EUR',
      columns: { account: 0, remittanceInfo: [1], bookingDate: 2, valueDate: 3, amount: 4, currency: 5 },
    },
  },
  'ofxst-austrian__ing-diba.csv': {
    account: {},
    profile: {
      delimiter: ';',
      encoding: 'latin1',
      dateFormat: 'DD.MM.YYYY',
      decimalSeparator: ',',
      thousandsSeparator: '.',
      currency: 'EUR',
      columns: {
        account: 'Kontonummer',
        remittanceInfo: ['Text'],
        bookingDate: 'Datum',
        currency: 'Währung',
        debit: 'Soll',
        credit: 'Haben',
      },
    },
  },
  'ofxst-dutch__ing_ok.csv': {
    account: {},
    profile: {
      dateFormat: 'YYYYMMDD',
      decimalSeparator: ',',
      currency: 'EUR',
      columns: {
        bookingDate: 'Datum',
        account: 'Rekening',
        counterpartyName: 'Naam / Omschrijving',
        counterpartyAccount: 'Tegenrekening',
        amount: 'Bedrag (EUR)',
        creditDebit: { column: 'Af Bij', credit: ['Bij'], debit: ['Af'] },
        remittanceInfo: ['Mededelingen'],
      },
    },
  },
  'ofxst-dutch__ing_ok_Mutatiesoort_Extra_Unquoted.csv': {
    account: {},
    profile: {
      delimiter: ';',
      dateFormat: 'YYYYMMDD',
      decimalSeparator: ',',
      currency: 'EUR',
      columns: {
        bookingDate: 'Datum',
        account: 'Rekening',
        counterpartyName: 'Naam / Omschrijving',
        counterpartyAccount: 'Tegenrekening',
        amount: 'Bedrag (EUR)',
        creditDebit: { column: 'Af Bij', credit: ['Bij'], debit: ['Af'] },
        remittanceInfo: ['Mededelingen'],
      },
    },
  },
  'ofxst-revolut__2022-january.csv': {
    account: { accountNumber: 'REVOLUT-EUR' },
    profile: {
      currency: 'EUR',
      dateFormat: 'YYYY-MM-DD',
      skipWhen: { column: 'State', values: ['PENDING', 'DECLINED', 'REVERTED'] },
      columns: {
        bookingDate: 'Completed Date',
        valueDate: 'Started Date',
        amount: 'Amount',
        currency: 'Currency',
        remittanceInfo: ['Description'],
      },
    },
  },
};

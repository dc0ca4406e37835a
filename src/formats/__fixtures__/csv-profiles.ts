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
        balance: 'Balance',
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
  // Separate debit and credit columns, either written with or without a sign. Its Balance column
  // is left out: it is no running balance of the file's own rows (a debit of 1,500.00 raises it).
  'oca-bsi__debit_credit_amount.csv': {
    account: { accountNumber: 'ODOO-SAMPLE' },
    profile: {
      currency: 'USD',
      dateFormat: 'MM/DD/YYYY',
      thousandsSeparator: ',',
      columns: {
        bookingDate: 'Date',
        debit: 'Debit',
        credit: 'Credit',
        remittanceInfo: ['Label'],
        counterpartyName: 'Partner Name',
        counterpartyAccount: 'Bank Account',
      },
    },
  },
  // One file, rows of several currency accounts: the USD account imports its USD rows.
  'oca-bsi__multi_currency.csv': {
    account: { accountNumber: 'ODOO-SAMPLE' },
    profile: {
      currency: 'USD',
      dateFormat: 'MM/DD/YYYY',
      thousandsSeparator: ',',
      otherCurrencyRows: 'skip',
      columns: {
        bookingDate: 'Date',
        amount: 'Amount',
        currency: 'Currency',
        remittanceInfo: ['Label'],
        counterpartyName: 'Partner Name',
        counterpartyAccount: 'Bank Account',
      },
    },
  },
  // No header row: columns by position; the amount in the account currency, and the original one.
  'oca-bsi__original_currency_no_header.csv': {
    account: { accountNumber: 'ODOO-SAMPLE' },
    profile: {
      currency: 'USD',
      headerRows: 0,
      dateFormat: 'MM/DD/YYYY',
      thousandsSeparator: ',',
      columns: {
        bookingDate: 0,
        remittanceInfo: [1, 7],
        instructedCurrency: 2,
        amount: 3,
        instructedAmount: 4,
        counterpartyName: 5,
        counterpartyAccount: 6,
      },
    },
  },
  // A credit card: purchases are positive in the export, negative for the account.
  'oca-bsi__sample_statement_credit_card_inverse_sign_en.csv': {
    account: { accountNumber: 'ODOO-CARD' },
    profile: {
      currency: 'USD',
      dateFormat: 'MM/DD/YYYY',
      thousandsSeparator: ',',
      invertSign: true,
      columns: {
        bookingDate: 'Date',
        amount: 'Amount',
        instructedCurrency: 'Currency',
        instructedAmount: 'Amount Currency',
        remittanceInfo: ['Label'],
        counterpartyName: 'Partner Name',
        counterpartyAccount: 'Bank Account',
      },
    },
  },
  // PayPal's activity export is the statement of the PayPal balance: Net is what the balance moved
  // by (Gross less Fee), the fee is kept as charges, each currency balance imports its own rows,
  // and the running Balance makes the statement balance.
  'oca-bsi__paypal_activity_en.csv': {
    account: { accountNumber: 'PAYPAL-USD' },
    profile: {
      currency: 'USD',
      dateFormat: 'DD/MM/YYYY',
      thousandsSeparator: ',',
      otherCurrencyRows: 'skip',
      skipWhen: { column: 'Status', values: ['Pending', 'Denied', 'Cancelled', 'Failed'] },
      columns: {
        bookingDate: 'Date',
        amount: 'Net',
        charges: 'Fee',
        currency: 'Currency',
        balance: 'Balance',
        reference: 'Transaction ID',
        counterpartyName: 'Name',
        remittanceInfo: ['Type', 'Subject', 'Note'],
      },
    },
  },
  // PayPal's statement export: same reading, US dates without leading zeros. Its Balance column
  // is 0.00 on most rows (not a running balance), so it is left out.
  'oca-bsi__paypal_statement_en.csv': {
    account: { accountNumber: 'PAYPAL-USD' },
    profile: {
      currency: 'USD',
      dateFormat: 'M/D/YYYY',
      thousandsSeparator: ',',
      otherCurrencyRows: 'skip',
      columns: {
        bookingDate: 'Date',
        amount: 'Net',
        charges: 'Fee',
        currency: 'Currency',
        reference: 'Transaction ID',
        counterpartyName: 'Name',
        remittanceInfo: ['Description'],
      },
    },
  },
  'ofxst-austrian__easybank-creditcard.csv': {
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
  // No header and no account column: the account comes from the configuration.
  'ofxst-austrian__raiffeisen.csv': {
    account: { accountNumber: 'RAIFFEISEN-GIRO' },
    profile: {
      delimiter: ';',
      headerRows: 0,
      encoding: 'latin1',
      dateFormat: 'DD.MM.YYYY',
      decimalSeparator: ',',
      thousandsSeparator: '.',
      currency: 'EUR',
      columns: { bookingDate: 0, remittanceInfo: [1], valueDate: 2, amount: 3, currency: 4 },
    },
  },
  // Wise lists every currency balance in one export; each is its own account. The sample's
  // Running Balance skips a 1,000.00 top-up between its rows, so it cannot balance and is left out.
  'ofxst-transferwise__sample-statement.csv': {
    account: { accountNumber: 'WISE-USD' },
    profile: {
      currency: 'USD',
      dateFormat: 'DD-MM-YYYY',
      otherCurrencyRows: 'skip',
      columns: {
        bookingDate: 'Date',
        amount: 'Amount',
        currency: 'Currency',
        remittanceInfo: ['Description', 'Payment Reference'],
        counterpartyName: ['Payer Name', 'Payee Name'],
        counterpartyAccount: 'Payee Account Number',
      },
    },
  },
};

/** Demo data for the sandbox: a EUR demo company with partners, IBANs, RF-referenced open items and a bank journal, plus a second company. */
import { composeIBAN } from 'ibantools';
import type { SandboxDb, SandboxRecord } from './store.ts';

/** Ids of seeded records that tests and demos refer to. */
export interface SandboxSeed {
  companyId: number;
  otherCompanyId: number;
  adminUid: number;
  restrictedUid: number;
  bankJournalId: number;
  otherBankJournalId: number;
  bankIban: string;
  otherBankIban: string;
}

/** Builds an ISO 11649 creditor reference: "RF" + two check digits (mod 97-10) + the reference. */
export function createRfReference(reference: string): string {
  const base = reference.replace(/\s/g, '').toUpperCase();
  const digits = `${base}RF00`.replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  return `RF${String(98 - rest).padStart(2, '0')}${base}`;
}

function iban(countryCode: string, bban: string): string {
  const value = composeIBAN({ countryCode, bban });
  if (!value) throw new Error(`seed IBAN ${countryCode} ${bban} is invalid`);
  return value;
}

/** Fills an empty sandbox database with the demo data. */
export function seedSandbox(db: SandboxDb, year: string): SandboxSeed {
  const eur = db.insert('res.currency', { name: 'EUR', symbol: '€', decimal_places: 2, active: true });
  db.insert('res.currency', { name: 'USD', symbol: '$', decimal_places: 2, active: true });
  db.insert('res.currency', { name: 'GBP', symbol: '£', decimal_places: 2, active: false });
  db.insert('res.currency', { name: 'JPY', symbol: '¥', decimal_places: 0, active: true });

  const demo = db.insert('res.company', { name: 'Kontor Demo GmbH', currency_id: eur.id });
  const other = db.insert('res.company', { name: 'Kontor Isolation BV', currency_id: eur.id });
  const usd = db.get('res.currency', 2)!;
  db.insert('res.currency.rate', {
    name: `${year}-01-01`,
    rate: 1.16,
    currency_id: usd.id,
    company_id: demo.id,
  });
  db.insert('res.currency.rate', {
    name: `${year}-01-01`,
    rate: 1.17,
    currency_id: usd.id,
    company_id: other.id,
  });
  const demoPartner = db.insert('res.partner', {
    name: 'Kontor Demo GmbH',
    is_company: true,
    company_id: demo.id,
  });
  const otherPartner = db.insert('res.partner', {
    name: 'Kontor Isolation BV',
    is_company: true,
    company_id: other.id,
  });
  db.update('res.company', demo.id, { partner_id: demoPartner.id });
  db.update('res.company', other.id, { partner_id: otherPartner.id });

  db.insert('res.users', {
    name: 'OdooBot',
    login: '__system__',
    company_id: demo.id,
    company_ids: [demo.id],
  });
  const admin = db.insert('res.users', {
    name: 'Mitchell Admin',
    login: 'admin',
    company_id: demo.id,
    company_ids: [demo.id, other.id],
  });
  const restricted = db.insert('res.users', {
    name: 'Marc Demo',
    login: 'demo',
    company_id: demo.id,
    company_ids: [demo.id],
  });

  const bankIban = iban('DE', '370400440532013000');
  const otherBankIban = iban('NL', 'ABNA0417164300');
  const demoBank = db.insert('res.partner.bank', {
    acc_number: bankIban,
    partner_id: demoPartner.id,
    company_id: demo.id,
    currency_id: eur.id,
  });
  const otherBank = db.insert('res.partner.bank', {
    acc_number: otherBankIban,
    partner_id: otherPartner.id,
    company_id: other.id,
    currency_id: eur.id,
  });

  const customers = [
    { name: 'Deco Addict', iban: iban('DE', '500105175407324931') },
    { name: 'Azure Interior', iban: iban('NL', 'INGB0001234567') },
    { name: 'Gemini Furniture', iban: iban('AT', '1904300234573201') },
  ].map((c) => {
    const partner = db.insert('res.partner', {
      name: c.name,
      is_company: true,
      email: `${c.name.toLowerCase().replace(/\s/g, '.')}@example.com`,
    });
    db.insert('res.partner.bank', { acc_number: c.iban, partner_id: partner.id });
    return partner;
  });
  const vendor = db.insert('res.partner', { name: 'Lumber Inc', is_company: true, vat: 'FR40303265045' });
  db.insert('res.partner.bank', { acc_number: iban('FR', '30006000011234567890189'), partner_id: vendor.id });
  const isolatedCustomer = db.insert('res.partner', {
    name: 'Isolation Customer NV',
    is_company: true,
    company_id: other.id,
  });

  const plan = db.insert('account.analytic.plan', { name: 'Departments' });
  for (const [name, code] of [
    ['Sales', 'DEP-S'],
    ['Operations', 'DEP-O'],
  ] as const) {
    db.insert('account.analytic.account', { name, code, plan_id: plan.id, company_id: demo.id });
  }
  db.insert('account.analytic.account', {
    name: 'Isolation Projects',
    code: 'ISO',
    plan_id: plan.id,
    company_id: other.id,
  });

  const demoSetup = seedCompanyBooks(db, demo, demoBank);
  const otherSetup = seedCompanyBooks(db, other, otherBank);

  const invoice = (
    books: CompanyBooks,
    type: 'out_invoice' | 'in_invoice',
    partner: SandboxRecord,
    cents: number,
    seq: number,
    day: string,
    ref: string,
  ): void => {
    const sale = type === 'out_invoice';
    const journal = sale ? books.sale : books.purchase;
    const name = `${String(journal.code)}/${year}/${String(seq).padStart(5, '0')}`;
    const move = db.insert('account.move', {
      name,
      move_type: type,
      state: 'posted',
      payment_state: 'not_paid',
      journal_id: journal.id,
      company_id: books.company.id,
      currency_id: books.company.currency_id,
      partner_id: partner.id,
      date: `${year}-${day}`,
      invoice_date: `${year}-${day}`,
      invoice_date_due: `${year}-12-31`,
      payment_reference: sale ? createRfReference(ref) : false,
      ref: sale ? false : createRfReference(ref),
      amount_total: cents,
      amount_residual: cents,
    });
    const partnerBalance = sale ? cents : -cents;
    const common = {
      move_id: move.id,
      partner_id: partner.id,
      company_id: books.company.id,
      currency_id: books.company.currency_id,
      name,
      reconciled: false,
    };
    db.insert('account.move.line', {
      ...common,
      account_id: sale ? books.receivable.id : books.payable.id,
      debit: Math.max(partnerBalance, 0),
      credit: Math.max(-partnerBalance, 0),
      balance: partnerBalance,
      amount_residual: partnerBalance,
    });
    db.insert('account.move.line', {
      ...common,
      account_id: sale ? books.income.id : books.expense.id,
      debit: Math.max(-partnerBalance, 0),
      credit: Math.max(partnerBalance, 0),
      balance: -partnerBalance,
      amount_residual: 0,
    });
  };
  const [deco, azure, gemini] = customers as [SandboxRecord, SandboxRecord, SandboxRecord];
  invoice(demoSetup, 'out_invoice', deco, 1_925_000, 1, '11-02', `INV${year}00001`);
  invoice(demoSetup, 'out_invoice', azure, 24_950, 2, '11-05', `INV${year}00002`);
  invoice(demoSetup, 'out_invoice', gemini, 417_500, 3, '11-09', `INV${year}00003`);
  invoice(demoSetup, 'out_invoice', deco, 12_345, 4, '11-12', `INV${year}00004`);
  invoice(demoSetup, 'in_invoice', vendor, 24_000, 1, '11-03', `BILL${year}0042`);
  invoice(demoSetup, 'in_invoice', vendor, 99_999, 2, '11-10', `BILL${year}0043`);
  invoice(otherSetup, 'out_invoice', isolatedCustomer, 50_000, 1, '11-04', `ISO${year}00001`);

  return {
    companyId: demo.id,
    otherCompanyId: other.id,
    adminUid: admin.id,
    restrictedUid: restricted.id,
    bankJournalId: demoSetup.bank.id,
    otherBankJournalId: otherSetup.bank.id,
    bankIban,
    otherBankIban,
  };
}

interface CompanyBooks {
  company: SandboxRecord;
  receivable: SandboxRecord;
  payable: SandboxRecord;
  income: SandboxRecord;
  expense: SandboxRecord;
  sale: SandboxRecord;
  purchase: SandboxRecord;
  bank: SandboxRecord;
}

function seedCompanyBooks(db: SandboxDb, company: SandboxRecord, bankAccount: SandboxRecord): CompanyBooks {
  const account = (code: string, name: string, type: string, reconcile = false): SandboxRecord =>
    db.insert('account.account', { code, name, account_type: type, reconcile, company_ids: [company.id] });
  const receivable = account('121000', 'Account Receivable', 'asset_receivable', true);
  const payable = account('211000', 'Account Payable', 'liability_payable', true);
  const bankAccountGl = account('101401', 'Bank', 'asset_cash');
  const suspense = account('101402', 'Bank Suspense Account', 'asset_current');
  account('101403', 'Outstanding Receipts', 'asset_current', true);
  account('101404', 'Outstanding Payments', 'asset_current', true);
  const income = account('400000', 'Product Sales', 'income');
  const expense = account('600000', 'Expenses', 'expense');
  // Write-off targets as Odoo's generic chart has them: bank fees (xml id <company>_expense_finance)
  // and the company's exchange gain/loss accounts.
  const bankFees = account('620000', 'Bank Fees', 'expense');
  db.insert('ir.model.data', {
    module: 'account',
    name: `${company.id}_expense_finance`,
    model: 'account.account',
    res_id: bankFees.id,
  });
  const fxGain = account('441000', 'Foreign Exchange Gain', 'income');
  const fxLoss = account('641000', 'Foreign Exchange Loss', 'expense');
  db.update('res.company', company.id, {
    income_currency_exchange_account_id: fxGain.id,
    expense_currency_exchange_account_id: fxLoss.id,
  });
  const journal = (
    name: string,
    code: string,
    type: string,
    extra: Record<string, unknown> = {},
  ): SandboxRecord =>
    db.insert('account.journal', { name, code, type, company_id: company.id, currency_id: false, ...extra });
  const sale = journal('Customer Invoices', 'INV', 'sale');
  const purchase = journal('Vendor Bills', 'BILL', 'purchase');
  const bank = journal('Bank', 'BNK1', 'bank', {
    bank_account_id: bankAccount.id,
    default_account_id: bankAccountGl.id,
    suspense_account_id: suspense.id,
  });
  return { company, receivable, payable, income, expense, sale, purchase, bank };
}

/**
 * The models and methods the sandbox emulates, with the rules Kontor relies on: required fields,
 * unique external ids, record rules per company, move/payment states and residuals after reconciliation.
 */
import {
  type FieldSpec,
  OdooFaultError,
  raiseFault,
  SandboxDb,
  type SandboxEnv,
  type SandboxRecord,
} from './store.ts';

const m2o = (comodel: string, label: string, required = false): FieldSpec => ({
  type: 'many2one',
  comodel,
  label,
  required,
});
const char = (label: string, required = false): FieldSpec => ({ type: 'char', label, required });
const money = (label: string): FieldSpec => ({ type: 'monetary', label });
const bool = (label: string): FieldSpec => ({ type: 'boolean', label });
const date = (label: string, required = false): FieldSpec => ({ type: 'date', label, required });
const select = (label: string, selection: readonly string[], required = false): FieldSpec => ({
  type: 'selection',
  label,
  selection,
  required,
});

const moveTypes = ['entry', 'out_invoice', 'in_invoice', 'out_refund', 'in_refund'] as const;
const accountTypes = [
  'asset_receivable',
  'asset_cash',
  'asset_current',
  'liability_payable',
  'liability_current',
  'income',
  'expense',
  'equity',
] as const;

/** The schema of every emulated model. */
export const sandboxSchema: Record<string, Record<string, FieldSpec>> = {
  'res.company': {
    name: char('Company Name', true),
    currency_id: m2o('res.currency', 'Currency', true),
    partner_id: m2o('res.partner', 'Partner'),
    income_currency_exchange_account_id: m2o('account.account', 'Gain Exchange Rate Account'),
    expense_currency_exchange_account_id: m2o('account.account', 'Loss Exchange Rate Account'),
  },
  'res.currency': {
    name: char('Currency', true),
    symbol: char('Symbol'),
    decimal_places: { type: 'integer', label: 'Decimal Places' },
    active: bool('Active'),
  },
  'res.currency.rate': {
    name: date('Date', true),
    rate: { type: 'float', label: 'Technical Rate' },
    currency_id: m2o('res.currency', 'Currency', true),
    company_id: m2o('res.company', 'Company'),
  },
  'res.users': {
    name: char('Name'),
    login: char('Login', true),
    company_id: m2o('res.company', 'Company'),
    company_ids: { type: 'many2many', comodel: 'res.company', label: 'Companies' },
  },
  'res.partner': {
    name: char('Name', true),
    is_company: bool('Is a Company'),
    vat: char('Tax ID'),
    email: char('Email'),
    ref: char('Reference'),
    company_id: m2o('res.company', 'Company'),
  },
  'res.partner.bank': {
    acc_number: char('Account Number', true),
    partner_id: m2o('res.partner', 'Account Holder', true),
    currency_id: m2o('res.currency', 'Currency'),
    company_id: m2o('res.company', 'Company'),
    sanitized_acc_number: {
      type: 'char',
      label: 'Sanitized Account Number',
      compute: (r) => String(r.acc_number).replace(/\W/g, '').toUpperCase(),
    },
  },
  'account.account': {
    code: char('Code', true),
    name: char('Account Name', true),
    account_type: select('Type', accountTypes, true),
    reconcile: bool('Allow Reconciliation'),
    company_ids: { type: 'many2many', comodel: 'res.company', label: 'Companies' },
    currency_id: m2o('res.currency', 'Account Currency'),
  },
  'account.journal': {
    name: char('Journal Name', true),
    code: char('Short Code', true),
    type: select('Type', ['sale', 'purchase', 'cash', 'bank', 'general'], true),
    company_id: m2o('res.company', 'Company', true),
    currency_id: m2o('res.currency', 'Currency'),
    bank_account_id: m2o('res.partner.bank', 'Bank Account'),
    default_account_id: m2o('account.account', 'Default Account'),
    suspense_account_id: m2o('account.account', 'Suspense Account'),
  },
  'account.analytic.plan': { name: char('Name', true) },
  'account.analytic.account': {
    name: char('Analytic Account', true),
    code: char('Reference'),
    plan_id: m2o('account.analytic.plan', 'Plan', true),
    company_id: m2o('res.company', 'Company'),
  },
  'account.move': {
    name: char('Number'),
    move_type: select('Type', moveTypes, true),
    state: select('Status', ['draft', 'posted', 'cancel']),
    payment_state: select('Payment Status', ['not_paid', 'partial', 'in_payment', 'paid']),
    partner_id: m2o('res.partner', 'Partner'),
    company_id: m2o('res.company', 'Company'),
    currency_id: m2o('res.currency', 'Currency'),
    journal_id: m2o('account.journal', 'Journal', true),
    date: date('Date'),
    invoice_date: date('Invoice/Bill Date'),
    invoice_date_due: date('Due Date'),
    payment_reference: char('Payment Reference'),
    ref: char('Reference'),
    amount_total: money('Total'),
    amount_residual: money('Amount Due'),
  },
  'account.move.line': {
    move_id: m2o('account.move', 'Journal Entry', true),
    account_id: m2o('account.account', 'Account', true),
    partner_id: m2o('res.partner', 'Partner'),
    company_id: m2o('res.company', 'Company'),
    currency_id: m2o('res.currency', 'Currency'),
    name: char('Label'),
    debit: money('Debit'),
    credit: money('Credit'),
    balance: money('Balance'),
    // The sandbox keeps journal items in the company currency, where Odoo has amount_currency = balance.
    amount_currency: { type: 'monetary', label: 'Amount in Currency', compute: (r) => r.balance },
    amount_residual: money('Residual Amount'),
    amount_residual_currency: {
      type: 'monetary',
      label: 'Residual Amount in Currency',
      compute: (r) => r.amount_residual,
    },
    reconciled: bool('Reconciled'),
    account_type: {
      type: 'selection',
      label: 'Internal Type',
      selection: accountTypes,
      compute: (r, db) => db.get('account.account', r.account_id as number)?.account_type,
    },
  },
  'account.partial.reconcile': {
    debit_move_id: m2o('account.move.line', 'Debit'),
    credit_move_id: m2o('account.move.line', 'Credit'),
    amount: money('Amount'),
    company_id: m2o('res.company', 'Company'),
    currency_id: m2o('res.currency', 'Currency'),
  },
  'account.bank.statement.line': {
    move_id: m2o('account.move', 'Journal Entry'),
    journal_id: m2o('account.journal', 'Journal', true),
    date: date('Date', true),
    payment_ref: char('Label'),
    amount: money('Amount'),
    partner_id: m2o('res.partner', 'Partner'),
    partner_name: char('Partner Name'),
    account_number: char('Bank Account Number'),
    transaction_type: char('Transaction Type'),
    ref: char('Reference'),
    narration: char('Terms and Conditions'),
    company_id: m2o('res.company', 'Company'),
    currency_id: m2o('res.currency', 'Journal Currency'),
    is_reconciled: {
      type: 'boolean',
      label: 'Is Reconciled',
      compute: (r, db) => statementLineState(db, r).reconciled,
    },
    amount_residual: {
      type: 'monetary',
      label: 'Residual Amount',
      compute: (r, db) => statementLineState(db, r).residual,
    },
  },
  'account.payment': {
    name: char('Number'),
    payment_type: select('Payment Type', ['inbound', 'outbound'], true),
    partner_type: select('Partner Type', ['customer', 'supplier'], true),
    partner_id: m2o('res.partner', 'Customer/Vendor'),
    amount: money('Amount'),
    journal_id: m2o('account.journal', 'Journal', true),
    date: date('Date'),
    memo: char('Memo'),
    state: select('Status', ['draft', 'in_process', 'paid', 'canceled', 'rejected']),
    company_id: m2o('res.company', 'Company'),
    currency_id: m2o('res.currency', 'Currency'),
    move_id: m2o('account.move', 'Journal Entry'),
    is_matched: {
      type: 'boolean',
      label: 'Is Matched With a Bank Statement',
      compute: (r, db) => paymentLines(db, r).outstanding.some((l) => l.reconciled === true),
    },
    reconciled_bill_ids: {
      type: 'many2many',
      comodel: 'account.move',
      label: 'Reconciled Bills',
      compute: (r, db) => reconciledMoves(db, paymentLines(db, r).counterpart, 'in_invoice'),
    },
  },
  'ir.model.data': {
    module: char('Module', true),
    name: char('External Identifier', true),
    model: char('Model Name', true),
    res_id: { type: 'integer', label: 'Record ID' },
  },
};

/** Creates an empty sandbox database with the emulated schema. */
export function createSandboxDb(today: () => string): SandboxDb {
  return new SandboxDb(sandboxSchema, today);
}

/** A model method callable over RPC: record methods get `ids`, all get named params. */
type Method = (
  db: SandboxDb,
  env: SandboxEnv,
  model: string,
  ids: number[] | undefined,
  params: Record<string, unknown>,
) => unknown;

/** Positional parameter names per method, so JSON-RPC positional args and JSON-2 named args meet. */
export const methodParams: Record<string, string[]> = {
  search_read: ['domain', 'fields', 'offset', 'limit', 'order'],
  search: ['domain', 'offset', 'limit', 'order'],
  search_count: ['domain'],
  read: ['fields'],
  create: ['vals_list'],
  write: ['vals'],
  load: ['fields', 'data'],
};

/** Methods that take a recordset (the first positional argument over JSON-RPC). */
export const recordMethods = new Set([
  'read',
  'write',
  'action_post',
  'reconcile',
  'remove_move_reconcile',
  'action_undo_reconciliation',
  'unlink',
]);

const generic: Record<string, Method> = {
  search_read: (db, env, model, _ids, p) => {
    db.checkAccess(env, model, 'read');
    const ids = db.search(
      env,
      model,
      asList(p.domain),
      asNumber(p.offset) ?? 0,
      asNumber(p.limit),
      typeof p.order === 'string' ? p.order : undefined,
    );
    return ids.map((id) => db.render(model, db.get(model, id)!, fieldList(db, model, p.fields)));
  },
  search: (db, env, model, _ids, p) => {
    db.checkAccess(env, model, 'read');
    return db.search(env, model, asList(p.domain), asNumber(p.offset) ?? 0, asNumber(p.limit));
  },
  search_count: (db, env, model, _ids, p) => {
    db.checkAccess(env, model, 'read');
    return db.search(env, model, asList(p.domain)).length;
  },
  read: (db, env, model, ids, p) => {
    db.checkAccess(env, model, 'read');
    return (ids ?? []).map((id) =>
      db.render(model, db.browse(env, model, id), fieldList(db, model, p.fields)),
    );
  },
  create: (db, env, model, _ids, p) => {
    db.checkAccess(env, model, 'create');
    const list = Array.isArray(p.vals_list)
      ? (p.vals_list as Record<string, unknown>[])
      : [p.vals_list as Record<string, unknown>];
    const ids = list.map((vals) => createRecord(db, env, model, vals).id);
    return Array.isArray(p.vals_list) ? ids : ids[0];
  },
  write: (db, env, model, ids, p) => {
    db.checkAccess(env, model, 'write');
    for (const id of ids ?? []) writeRecord(db, env, model, id, (p.vals ?? {}) as Record<string, unknown>);
    return true;
  },
  load: (db, env, model, _ids, p) => {
    db.checkAccess(env, model, 'create');
    return loadRows(db, env, model, asList(p.fields) as string[], asList(p.data) as unknown[][]);
  },
};

const specific: Record<string, Record<string, Method>> = {
  'account.move': {
    action_post: (db, env, _m, ids) => {
      for (const id of ids ?? []) {
        const move = db.browse(env, 'account.move', id);
        if (move.state !== 'draft') raiseFault('UserError', 'The entry is already posted.');
        db.update('account.move', id, { state: 'posted' });
      }
      return false;
    },
  },
  'account.payment': {
    action_post: (db, env, _m, ids) => {
      for (const id of ids ?? []) postPayment(db, env, db.browse(env, 'account.payment', id));
      return null;
    },
  },
  'account.move.line': {
    reconcile: (db, env, _m, ids) => {
      reconcileLines(db, env, ids ?? []);
      return null;
    },
    remove_move_reconcile: (db, env, _m, ids) => {
      for (const id of ids ?? []) removePartials(db, db.browse(env, 'account.move.line', id).id);
      return null;
    },
  },
  'account.bank.statement.line': {
    action_undo_reconciliation: (db, env, _m, ids) => {
      for (const id of ids ?? [])
        undoStatementLine(db, env, db.browse(env, 'account.bank.statement.line', id));
      return null;
    },
  },
  'res.users': {
    context_get: () => ({ lang: 'en_US', tz: 'Europe/Berlin' }),
  },
};

/** Runs one model method in a transaction, as Odoo does per RPC call. */
export function callMethod(
  db: SandboxDb,
  env: SandboxEnv,
  model: string,
  method: string,
  ids: number[] | undefined,
  params: Record<string, unknown>,
): unknown {
  if (method.startsWith('_'))
    raiseFault('AccessError', `Private methods (such as '${model}.${method}') cannot be called remotely.`);
  db.table(model);
  const impl = specific[model]?.[method] ?? generic[method];
  if (!impl)
    throw new OdooFaultError(
      'builtins.AttributeError',
      `The method '${method}' does not exist on the model '${model}'`,
    );
  return db.transaction(() => impl(db, env, model, ids, params));
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function fieldList(db: SandboxDb, model: string, fields: unknown): string[] {
  // Odoo reads every field when none are named; Kontor always names them, but the emulation stays faithful.
  return Array.isArray(fields) && fields.length > 0
    ? (fields as string[])
    : Object.keys(db.schema[model] ?? {});
}

function companyCurrency(db: SandboxDb, companyId: number): number {
  return db.get('res.company', companyId)?.currency_id as number;
}

function checkValues(db: SandboxDb, env: SandboxEnv, model: string, vals: Record<string, unknown>): void {
  const specs = db.schema[model] ?? {};
  for (const [field, value] of Object.entries(vals)) {
    const spec = specs[field];
    if (!spec)
      throw new OdooFaultError('builtins.ValueError', `Invalid field '${field}' on model '${model}'`);
    if (spec.compute) continue;
    if (spec.type === 'many2one' && typeof value === 'number' && spec.comodel) {
      db.browse(env, spec.comodel, value);
    }
    if (
      spec.type === 'selection' &&
      value !== false &&
      value !== undefined &&
      !spec.selection?.includes(value as string)
    ) {
      raiseFault('ValidationError', `Wrong value for ${model}.${field}: ${JSON.stringify(value)}`);
    }
  }
}

function checkRequired(db: SandboxDb, model: string, record: Record<string, unknown>): void {
  for (const [field, spec] of Object.entries(db.schema[model] ?? {})) {
    const value = record[field];
    if (spec.required && (value === undefined || value === false || value === null || value === '')) {
      raiseFault(
        'ValidationError',
        `The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model requires the record being deleted. If possible, archive it instead.\n\nModel: ${model}, Field: ${spec.label} (${field})`,
      );
    }
  }
}

/** Creates one record with the model's defaults, checks and side effects. */
export function createRecord(
  db: SandboxDb,
  env: SandboxEnv,
  model: string,
  input: Record<string, unknown>,
): SandboxRecord {
  checkValues(db, env, model, input);
  const vals: Record<string, unknown> = { ...input };
  switch (model) {
    case 'account.bank.statement.line':
      return createStatementLine(db, env, vals);
    case 'account.payment': {
      const journal =
        typeof vals.journal_id === 'number' ? db.browse(env, 'account.journal', vals.journal_id) : undefined;
      const companyId = (journal?.company_id as number | undefined) ?? env.allowedCompanyIds[0] ?? 0;
      const currencyId =
        (vals.currency_id as number | undefined) ||
        (journal?.currency_id as number | undefined) ||
        companyCurrency(db, companyId);
      const currency = db.get('res.currency', currencyId)?.name as string;
      const amount = db.toMinor(vals.amount, currency);
      if (amount < 0) raiseFault('ValidationError', 'The payment amount cannot be negative.');
      const record = {
        name: false,
        state: 'draft',
        date: db.today(),
        ...vals,
        amount,
        company_id: companyId,
        currency_id: currencyId,
      };
      checkRequired(db, model, record);
      return db.insert(model, record);
    }
    case 'ir.model.data': {
      const duplicate = [...db.table(model).values()].some(
        (r) => r.module === vals.module && r.name === vals.name,
      );
      if (duplicate) {
        raiseFault(
          'ValidationError',
          `duplicate key value violates unique constraint "ir_model_data_module_name_uniq_index"\nDETAIL:  Key (module, name)=(${String(vals.module)}, ${String(vals.name)}) already exists.`,
        );
      }
      checkRequired(db, model, vals);
      return db.insert(model, vals);
    }
    default: {
      if (model.startsWith('account.') && model !== 'account.analytic.account') {
        raiseFault('UserError', `the sandbox does not emulate creating ${model} over RPC`);
      }
      checkRequired(db, model, vals);
      return db.insert(model, vals);
    }
  }
}

function createStatementLine(db: SandboxDb, env: SandboxEnv, vals: Record<string, unknown>): SandboxRecord {
  const record: Record<string, unknown> = { date: db.today(), amount: 0, ...vals };
  checkRequired(db, 'account.bank.statement.line', record);
  const journal = db.browse(env, 'account.journal', record.journal_id as number);
  if (journal.type !== 'bank' && journal.type !== 'cash')
    raiseFault('UserError', 'A statement line needs a bank or cash journal.');
  const companyId = journal.company_id as number;
  // Creating in another company's journal breaks the multi-company rule on account.move, as in Odoo.
  if (!env.allowedCompanyIds.includes(companyId)) {
    raiseFault(
      'AccessError',
      `Sorry, you are not allowed to create 'Journal Entry' (account.move) records of company ${companyId}.`,
    );
  }
  const currencyId = (journal.currency_id as number | undefined) || companyCurrency(db, companyId);
  const currency = db.get('res.currency', currencyId)?.name as string;
  const amount = db.toMinor(record.amount, currency);
  const date = String(record.date);
  const count = [...db.table('account.move').values()].filter((m) => m.journal_id === journal.id).length + 1;
  const move = db.insert('account.move', {
    name: `${String(journal.code)}/${date.slice(0, 4)}/${String(count).padStart(5, '0')}`,
    move_type: 'entry',
    state: 'posted',
    payment_state: 'not_paid',
    journal_id: journal.id,
    company_id: companyId,
    currency_id: currencyId,
    date,
    partner_id: record.partner_id ?? false,
    ref: record.payment_ref ?? false,
    amount_total: Math.abs(amount),
    amount_residual: 0,
  });
  const line = (account: unknown, balance: number): Record<string, unknown> => ({
    move_id: move.id,
    account_id: account,
    partner_id: record.partner_id ?? false,
    company_id: companyId,
    currency_id: currencyId,
    name: record.payment_ref ?? false,
    debit: Math.max(balance, 0),
    credit: Math.max(-balance, 0),
    balance,
    amount_residual: balance,
    reconciled: false,
  });
  db.insert('account.move.line', line(journal.default_account_id, amount));
  db.insert('account.move.line', line(journal.suspense_account_id, -amount));
  return db.insert('account.bank.statement.line', {
    ...record,
    amount,
    move_id: move.id,
    company_id: companyId,
    currency_id: currencyId,
  });
}

function writeRecord(
  db: SandboxDb,
  env: SandboxEnv,
  model: string,
  id: number,
  vals: Record<string, unknown>,
): void {
  const record = db.browse(env, model, id);
  if (model === 'account.bank.statement.line' && 'line_ids' in vals) {
    const { line_ids: commands, ...rest } = vals;
    writeStatementMoveLines(db, env, record, asList(commands));
    if (Object.keys(rest).length > 0) writeRecord(db, env, model, id, rest);
    return;
  }
  checkValues(db, env, model, vals);
  if (model === 'account.move.line') {
    const allowed = new Set(['account_id', 'partner_id', 'name']);
    const bad = Object.keys(vals).find((k) => !allowed.has(k));
    if (bad) raiseFault('UserError', `the sandbox does not emulate writing ${bad} on a journal item`);
    if (record.reconciled === true || hasPartials(db, id)) {
      raiseFault('UserError', 'You cannot modify the account of a reconciled journal item.');
    }
    db.update(model, id, vals);
    return;
  }
  if (model === 'account.bank.statement.line' || model === 'account.payment') {
    const patch = { ...vals };
    if ('amount' in patch) {
      if (model === 'account.bank.statement.line' && statementLineState(db, record).reconciled) {
        raiseFault('UserError', 'You cannot edit the amount of a reconciled statement line.');
      }
      if (model === 'account.payment' && record.state !== 'draft')
        raiseFault('UserError', 'You cannot modify a posted payment.');
      patch.amount = db.toMinor(patch.amount, db.currencyOf(model, record));
      if (model === 'account.bank.statement.line') resyncStatementLine(db, record, patch.amount as number);
    }
    db.update(model, id, patch);
    checkRequired(db, model, record);
    return;
  }
  if (model.startsWith('account.') || model === 'ir.model.data')
    raiseFault('UserError', `the sandbox does not emulate writing ${model}`);
  db.update(model, id, vals);
  checkRequired(db, model, record);
}

/**
 * `line_ids` commands on a posted statement line's entry, as Odoo 18 takes them over RPC: `(1, id, vals)`
 * may change an item's account, partner and label but not its amount (Odoo answers "The entry is not
 * balanced."), `(0, 0, vals)` adds items; the entry must balance afterwards and keep one liquidity item.
 */
function writeStatementMoveLines(
  db: SandboxDb,
  env: SandboxEnv,
  statementLine: SandboxRecord,
  commands: unknown[],
): void {
  const moveId = statementLine.move_id as number;
  const move = db.get('account.move', moveId)!;
  const currency = db.get('res.currency', move.currency_id as number)?.name as string;
  for (const raw of commands) {
    const [op, id, vals = {}] = asList(raw) as [number, number, Record<string, unknown>];
    if (op === 1) {
      const item = db.browse(env, 'account.move.line', id);
      if (item.move_id !== moveId) raiseFault('UserError', 'The journal item belongs to another entry.');
      const { balance, amount_currency: amountCurrency, debit, credit, ...rest } = vals;
      const changes = [balance, amountCurrency, debit, credit].filter((v) => v !== undefined);
      if (changes.some((v) => db.toMinor(v, currency) !== item.balance))
        raiseFault('UserError', 'The entry is not balanced.');
      writeRecord(db, env, 'account.move.line', id, rest);
    } else if (op === 0) {
      const { balance, amount_currency: amountCurrency, currency_id: currencyId, ...rest } = vals;
      checkValues(db, env, 'account.move.line', rest);
      const amount = db.toMinor(balance ?? amountCurrency, currency);
      if (amountCurrency !== undefined && db.toMinor(amountCurrency, currency) !== amount)
        raiseFault('UserError', 'The sandbox keeps journal items in the company currency only.');
      if (currencyId !== undefined && currencyId !== move.currency_id)
        raiseFault('UserError', 'The sandbox keeps journal items in the company currency only.');
      const record = {
        move_id: moveId,
        company_id: move.company_id,
        currency_id: move.currency_id,
        partner_id: false,
        name: false,
        ...rest,
        debit: Math.max(amount, 0),
        credit: Math.max(-amount, 0),
        balance: amount,
        // Items of accounts that do not reconcile have nothing residual, as in Odoo.
        amount_residual:
          db.get('account.account', rest.account_id as number)?.reconcile === true ? amount : 0,
        reconciled: false,
      };
      checkRequired(db, 'account.move.line', record);
      db.insert('account.move.line', record);
    } else raiseFault('UserError', `the sandbox does not emulate the command ${String(op)} on line_ids`);
  }
  const lines = linesOf(db, moveId);
  if (lines.reduce((sum, l) => sum + (l.balance as number), 0) !== 0)
    raiseFault('UserError', 'The entry is not balanced.');
  const journal = db.get('account.journal', statementLine.journal_id as number)!;
  if (lines.filter((l) => l.account_id === journal.default_account_id).length !== 1)
    raiseFault(
      'UserError',
      `The journal entry ${String(move.name)} reached an invalid state regarding its related statement line.`,
    );
}

function resyncStatementLine(db: SandboxDb, line: SandboxRecord, amount: number): void {
  const journal = db.get('account.journal', line.journal_id as number)!;
  for (const l of linesOf(db, line.move_id as number)) {
    const balance = l.account_id === journal.default_account_id ? amount : -amount;
    db.update('account.move.line', l.id, {
      balance,
      debit: Math.max(balance, 0),
      credit: Math.max(-balance, 0),
      amount_residual: balance,
    });
  }
}

function linesOf(db: SandboxDb, moveId: number): SandboxRecord[] {
  return [...db.table('account.move.line').values()].filter((l) => l.move_id === moveId);
}

function hasPartials(db: SandboxDb, lineId: number): boolean {
  return [...db.table('account.partial.reconcile').values()].some(
    (p) => p.debit_move_id === lineId || p.credit_move_id === lineId,
  );
}

/** Whether a statement line is reconciled and what is left, mirroring Odoo 18's computation. */
function statementLineState(db: SandboxDb, line: SandboxRecord): { reconciled: boolean; residual: number } {
  const journal = db.get('account.journal', line.journal_id as number);
  const others = linesOf(db, line.move_id as number).filter(
    (l) => l.account_id !== journal?.default_account_id,
  );
  const suspense = others.filter((l) => l.account_id === journal?.suspense_account_id);
  if (suspense.length > 0)
    return { reconciled: false, residual: suspense.reduce((s, l) => s + (l.balance as number), 0) };
  // Odoo 18 looks at the suspense item only: once it is re-pointed, the line counts as reconciled even
  // while the re-pointed item is still open (a reconciliation stopped between its write and reconcile).
  return { reconciled: true, residual: 0 };
}

function postPayment(db: SandboxDb, env: SandboxEnv, payment: SandboxRecord): void {
  if (payment.state !== 'draft') raiseFault('UserError', 'Only a draft payment can be posted.');
  if (!payment.partner_id) raiseFault('UserError', 'A payment needs a partner to be posted.');
  const companyId = payment.company_id as number;
  const accounts = [...db.table('account.account').values()].filter((a) =>
    (a.company_ids as number[]).includes(companyId),
  );
  const inbound = payment.payment_type === 'inbound';
  const outstanding = accounts.find(
    (a) => a.name === (inbound ? 'Outstanding Receipts' : 'Outstanding Payments'),
  );
  const counterpart = accounts.find(
    (a) =>
      a.account_type === (payment.partner_type === 'customer' ? 'asset_receivable' : 'liability_payable'),
  );
  if (!outstanding || !counterpart)
    raiseFault('UserError', 'The company has no outstanding or partner account.');
  const journal = db.browse(env, 'account.journal', payment.journal_id as number);
  const count =
    [...db.table('account.payment').values()].filter(
      (p) => p.state !== 'draft' && p.journal_id === journal.id,
    ).length + 1;
  const name = `P${String(journal.code)}/${String(payment.date).slice(0, 4)}/${String(count).padStart(5, '0')}`;
  const amount = payment.amount as number;
  const signed = inbound ? amount : -amount;
  const move = db.insert('account.move', {
    name,
    move_type: 'entry',
    state: 'posted',
    payment_state: 'not_paid',
    journal_id: journal.id,
    company_id: companyId,
    currency_id: payment.currency_id,
    date: payment.date,
    partner_id: payment.partner_id,
    ref: payment.memo ?? false,
    amount_total: amount,
    amount_residual: 0,
  });
  const line = (account: number, balance: number, reconcilable: boolean): Record<string, unknown> => ({
    move_id: move.id,
    account_id: account,
    partner_id: payment.partner_id,
    company_id: companyId,
    currency_id: payment.currency_id,
    name: payment.memo ?? name,
    debit: Math.max(balance, 0),
    credit: Math.max(-balance, 0),
    balance,
    amount_residual: reconcilable ? balance : 0,
    reconciled: false,
  });
  db.insert('account.move.line', line(outstanding.id, signed, true));
  db.insert('account.move.line', line(counterpart.id, -signed, true));
  db.update('account.payment', payment.id, { state: 'in_process', name, move_id: move.id });
}

function reconcileLines(db: SandboxDb, env: SandboxEnv, ids: number[]): void {
  const lines = ids.map((id) => db.browse(env, 'account.move.line', id));
  if (lines.length === 0) return;
  const accountIds = new Set(lines.map((l) => l.account_id));
  if (accountIds.size > 1) raiseFault('UserError', 'Entries are not from the same account.');
  const account = db.get('account.account', lines[0]!.account_id as number)!;
  if (account.reconcile !== true) {
    raiseFault(
      'UserError',
      `Account ${String(account.code)} ${String(account.name)} does not allow reconciliation. First change the configuration of this account to allow it.`,
    );
  }
  if (lines.some((l) => l.reconciled === true))
    raiseFault('UserError', 'You are trying to reconcile some entries that are already reconciled.');
  const debits = lines.filter((l) => (l.amount_residual as number) > 0);
  const credits = lines.filter((l) => (l.amount_residual as number) < 0);
  // Odoo pairs debits and credits in order and reconciles the smaller residual of each pair.
  let d = 0;
  let c = 0;
  while (d < debits.length && c < credits.length) {
    const debit = debits[d]!;
    const credit = credits[c]!;
    const amount = Math.min(debit.amount_residual as number, -(credit.amount_residual as number));
    db.insert('account.partial.reconcile', {
      debit_move_id: debit.id,
      credit_move_id: credit.id,
      amount,
      company_id: debit.company_id,
      currency_id: debit.currency_id,
    });
    db.update('account.move.line', debit.id, { amount_residual: (debit.amount_residual as number) - amount });
    db.update('account.move.line', credit.id, {
      amount_residual: (credit.amount_residual as number) + amount,
    });
    if (debit.amount_residual === 0) d++;
    if (credit.amount_residual === 0) c++;
  }
  for (const line of lines) {
    db.update('account.move.line', line.id, { reconciled: line.amount_residual === 0 });
  }
  for (const moveId of new Set(lines.map((l) => l.move_id as number))) recomputeMove(db, moveId);
  refreshPayments(db);
}

function removePartials(db: SandboxDb, lineId: number): void {
  const touched = new Set<number>();
  for (const partial of [...db.table('account.partial.reconcile').values()]) {
    if (partial.debit_move_id !== lineId && partial.credit_move_id !== lineId) continue;
    const debit = db.get('account.move.line', partial.debit_move_id as number)!;
    const credit = db.get('account.move.line', partial.credit_move_id as number)!;
    const amount = partial.amount as number;
    db.update('account.move.line', debit.id, {
      amount_residual: (debit.amount_residual as number) + amount,
      reconciled: false,
    });
    db.update('account.move.line', credit.id, {
      amount_residual: (credit.amount_residual as number) - amount,
      reconciled: false,
    });
    db.remove('account.partial.reconcile', partial.id);
    touched.add(debit.move_id as number).add(credit.move_id as number);
  }
  for (const moveId of touched) recomputeMove(db, moveId);
  refreshPayments(db);
}

function undoStatementLine(db: SandboxDb, env: SandboxEnv, line: SandboxRecord): void {
  const journal = db.browse(env, 'account.journal', line.journal_id as number);
  let counterpart: SandboxRecord | undefined;
  for (const l of linesOf(db, line.move_id as number)) {
    removePartials(db, l.id);
    if (l.account_id === journal.default_account_id) continue;
    // Odoo clears the entry and rebuilds liquidity + suspense; keeping one id is a harmless simplification.
    if (counterpart === undefined) counterpart = l;
    else db.remove('account.move.line', l.id);
  }
  if (counterpart !== undefined) {
    const amount = -(line.amount as number);
    db.update('account.move.line', counterpart.id, {
      account_id: journal.suspense_account_id,
      partner_id: line.partner_id ?? false,
      balance: amount,
      debit: Math.max(amount, 0),
      credit: Math.max(-amount, 0),
      amount_residual: amount,
      reconciled: false,
    });
  }
  refreshPayments(db);
}

/** A payment's journal items: the outstanding (liquidity) item and the receivable/payable counterpart. */
function paymentLines(
  db: SandboxDb,
  payment: SandboxRecord,
): { outstanding: SandboxRecord[]; counterpart: SandboxRecord[] } {
  const lines = typeof payment.move_id === 'number' ? linesOf(db, payment.move_id) : [];
  const partnerLine = (l: SandboxRecord): boolean => {
    const type = db.get('account.account', l.account_id as number)?.account_type;
    return type === 'asset_receivable' || type === 'liability_payable';
  };
  return { outstanding: lines.filter((l) => !partnerLine(l)), counterpart: lines.filter(partnerLine) };
}

/** The moves of `moveType` whose items are reconciled with `lines`. */
function reconciledMoves(db: SandboxDb, lines: SandboxRecord[], moveType: string): number[] {
  const ids = new Set(lines.map((l) => l.id));
  const found = new Set<number>();
  for (const p of db.table('account.partial.reconcile').values()) {
    const debit = p.debit_move_id as number;
    const credit = p.credit_move_id as number;
    const other = ids.has(debit) ? credit : ids.has(credit) ? debit : undefined;
    if (other === undefined) continue;
    const moveId = db.get('account.move.line', other)?.move_id as number | undefined;
    if (moveId !== undefined && db.get('account.move', moveId)?.move_type === moveType) found.add(moveId);
  }
  return [...found];
}

/**
 * Odoo 18: a posted payment is `in_process` until its outstanding item is reconciled (with a bank
 * statement line), then `paid`.
 */
function refreshPayments(db: SandboxDb): void {
  for (const payment of db.table('account.payment').values()) {
    if (payment.state !== 'in_process' && payment.state !== 'paid') continue;
    const { outstanding } = paymentLines(db, payment);
    const matched = outstanding.length > 0 && outstanding.every((l) => l.reconciled === true);
    const state = matched ? 'paid' : 'in_process';
    if (payment.state !== state) db.update('account.payment', payment.id, { state });
  }
}

function recomputeMove(db: SandboxDb, moveId: number): void {
  const move = db.get('account.move', moveId);
  if (!move || move.move_type === 'entry') return;
  const open = linesOf(db, moveId).filter((l) => {
    const type = db.get('account.account', l.account_id as number)?.account_type;
    return type === 'asset_receivable' || type === 'liability_payable';
  });
  const residual = Math.abs(open.reduce((s, l) => s + (l.amount_residual as number), 0));
  const total = move.amount_total as number;
  // Community 18 has no 'in_payment' (account_accountant's): paid by an unmatched payment is 'paid'.
  const paymentState = residual === 0 ? 'paid' : residual < total ? 'partial' : 'not_paid';
  db.update('account.move', moveId, { amount_residual: residual, payment_state: paymentState });
}

interface LoadMessage {
  type: 'error';
  message: string;
  record: number;
  rows: { from: number; to: number };
  field?: string;
}

/** `Model.load`: an upsert keyed by external id; any error rolls the whole call back and returns `ids: false`. */
function loadRows(
  db: SandboxDb,
  env: SandboxEnv,
  model: string,
  fields: string[],
  data: unknown[][],
): { ids: number[] | false; messages: LoadMessage[] } {
  const specs = db.schema[model] ?? {};
  const messages: LoadMessage[] = [];
  const ids: number[] = [];
  const rollback = new Error('load rollback');
  try {
    db.transaction(() => {
      data.forEach((row, index) => {
        const fail = (message: string, field?: string): void => {
          messages.push({
            type: 'error',
            message,
            record: index,
            rows: { from: index, to: index },
            ...(field ? { field } : {}),
          });
        };
        let xmlid: string | undefined;
        const vals: Record<string, unknown> = {};
        let ok = true;
        fields.forEach((column, i) => {
          const raw = row[i];
          const text = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : '';
          if (column === 'id') {
            xmlid = text || undefined;
            return;
          }
          const [name = '', sub] = column.split('/');
          const spec = specs[name];
          if (!spec) {
            fail(`Unknown field '${column}'`, column);
            ok = false;
            return;
          }
          if (text === '') return;
          if (spec.type === 'many2one' && sub === '.id') {
            const target = /^\d+$/.test(text) ? db.get(spec.comodel!, Number(text)) : undefined;
            if (!target) {
              fail(`No matching record found for database id '${text}' in field '${spec.label}'`, name);
              ok = false;
            } else vals[name] = target.id;
          } else if (spec.type === 'monetary' || spec.type === 'float') {
            if (!/^[+-]?\d+(\.\d+)?$/.test(text)) {
              fail(`'${text}' does not seem to be a number for field '${spec.label}'`, name);
              ok = false;
            } else vals[name] = text;
          } else if (spec.type === 'date') {
            if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(text))) {
              fail(`'${text}' does not seem to be a valid date for field '${spec.label}'`, name);
              ok = false;
            } else vals[name] = text;
          } else if (spec.type === 'selection') {
            if (!spec.selection?.includes(text)) {
              fail(`Value '${text}' not found in selection field '${spec.label}'`, name);
              ok = false;
            } else vals[name] = text;
          } else vals[name] = text;
        });
        if (!ok) return;
        try {
          const [module = '', name = ''] = xmlid?.includes('.')
            ? xmlid.split(/\.(.*)/s)
            : ['__import__', xmlid ?? ''];
          const existing = xmlid
            ? [...db.table('ir.model.data').values()].find((r) => r.module === module && r.name === name)
            : undefined;
          if (existing && db.get(model, existing.res_id as number)) {
            writeRecord(db, env, model, existing.res_id as number, vals);
            ids.push(existing.res_id as number);
          } else {
            const record = createRecord(db, env, model, vals);
            if (xmlid) db.insert('ir.model.data', { module, name, model, res_id: record.id });
            ids.push(record.id);
          }
        } catch (error) {
          if (!(error instanceof OdooFaultError)) throw error;
          fail(error.message);
        }
      });
      if (messages.length > 0) throw rollback;
    });
  } catch (error) {
    if (error !== rollback) throw error;
    return { ids: false, messages };
  }
  return { ids, messages };
}

/** Typed access to exactly the Odoo models Kontor uses, each call scoped to one company. */
import { ConflictError, ErrorCodes, type Money, NotFoundError, ValidationError } from '../../domain/index.ts';
import { fromOdooAmount, toOdooDecimal } from './amounts.ts';
import { type BatchWriteResult, createExternalId, loadInBatches } from './batch.ts';
import {
  type OdooCall,
  type OdooCredentials,
  OdooTransport,
  type OdooTransportOptions,
  type OdooVersion,
} from './transport.ts';

/** A company (legal entity) the user may work in. */
export interface OdooCompany {
  id: number;
  name: string;
  currency: string;
}
/** An active currency. */
export interface OdooCurrency {
  id: number;
  code: string;
  symbol: string;
  decimalPlaces: number;
}
/** One exchange rate of a currency on a date. */
export interface OdooCurrencyRate {
  currency: string;
  date: string;
  /** Units of `currency` per one unit of the company currency, as Odoo's decimal text. */
  rate: string;
}
/** A partner (customer, vendor or contact), read with named fields only. */
export interface OdooPartner {
  id: number;
  name: string;
  isCompany: boolean;
  vat: string | undefined;
  email: string | undefined;
}
/** A partner's bank account (`res.partner.bank`). */
export interface OdooPartnerBank {
  id: number;
  partnerId: number;
  accountNumber: string;
  currency: string | undefined;
}
/** A bank journal with its bank account and suspense account. */
export interface OdooBankJournal {
  id: number;
  name: string;
  code: string;
  companyId: number;
  currency: string;
  bankAccountId: number | undefined;
  /** The journal's bank account number as Odoo holds it (an IBAN when it is one). */
  accountNumber: string | undefined;
  suspenseAccountId: number | undefined;
}
/** An account of the chart of accounts. */
export interface OdooAccount {
  id: number;
  code: string;
  name: string;
  accountType: string;
  reconcile: boolean;
}
/** An analytic account (cost centre, project). */
export interface OdooAnalyticAccount {
  id: number;
  name: string;
  code: string | undefined;
  planId: number | undefined;
}
/** The move types that make open items. */
export type OpenItemKind = 'out_invoice' | 'in_invoice' | 'out_refund' | 'in_refund';
/** A posted invoice, bill or refund with its residual as Money. */
export interface OdooOpenItem {
  id: number;
  name: string;
  kind: OpenItemKind;
  state: string;
  paymentState: string;
  partnerId: number | undefined;
  partnerName: string | undefined;
  total: Money;
  residual: Money;
  paymentReference: string | undefined;
  ref: string | undefined;
  invoiceDate: string | undefined;
  dueDate: string | undefined;
}
/** An open receivable/payable journal item of an invoice or bill. */
export interface OdooOpenLine {
  id: number;
  moveId: number;
  accountId: number;
  partnerId: number | undefined;
  /** Residual in the line's currency, signed as Odoo keeps it (receivable positive). */
  residual: Money;
}
/** A bank statement line as Odoo holds it. */
export interface OdooStatementLine {
  id: number;
  moveId: number;
  journalId: number;
  date: string;
  paymentRef: string;
  amount: Money;
  partnerId: number | undefined;
  isReconciled: boolean;
  residual: Money;
}
/** A payment and its state. */
export interface OdooPayment {
  id: number;
  state: string;
  amount: Money;
  partnerId: number | undefined;
}

/** One bank statement line to write; the external id comes from bank account + statement + entry ref. */
export interface StatementLineInput {
  journalId: number;
  bankAccount: string;
  statementId: string;
  entryRef: string;
  date: string;
  amount: Money;
  paymentRef: string;
  partnerId?: number;
  partnerName?: string;
  counterpartyAccount?: string;
  transactionType?: string;
}

/** One payment to create and post; `key` is its business key (e.g. payment order + instruction id). */
export interface PaymentInput {
  key: string;
  paymentType: 'inbound' | 'outbound';
  partnerType: 'customer' | 'supplier';
  partnerId: number;
  journalId: number;
  amount: Money;
  date: string;
  memo: string;
}

/** Options of batched writes. */
export interface WriteOptions {
  batchSize?: number;
}

const openItemFields = [
  'name',
  'move_type',
  'state',
  'payment_state',
  'partner_id',
  'currency_id',
  'amount_total',
  'amount_residual',
  'payment_reference',
  'ref',
  'invoice_date',
  'invoice_date_due',
];
const statementLineFields = [
  'move_id',
  'journal_id',
  'date',
  'payment_ref',
  'amount',
  'currency_id',
  'partner_id',
  'is_reconciled',
  'amount_residual',
];

/** A connected Odoo client; create it with {@link OdooClient.connect}. */
export class OdooClient {
  private companies: OdooCompany[] | undefined;

  private constructor(readonly transport: OdooTransport) {}

  /** Connects and authenticates; throws ODOO_ACCESS_DENIED on bad credentials. */
  static async connect(
    credentials: OdooCredentials,
    options: OdooTransportOptions = {},
  ): Promise<OdooClient> {
    return new OdooClient(await OdooTransport.connect(credentials, options));
  }

  /** The server version reported at connect time. */
  get version(): OdooVersion {
    return this.transport.version;
  }

  /** The authenticated user's id. */
  get uid(): number {
    return this.transport.uid;
  }

  /** Calls any model method scoped to one company (escape hatch for benchmarks and tests). */
  execute(companyId: number, call: Omit<OdooCall, 'context'>): Promise<unknown> {
    return this.transport.call({ ...call, context: this.contextFor(companyId) });
  }

  /** The companies the user may work in. */
  async listCompanies(): Promise<OdooCompany[]> {
    if (!this.companies) {
      const rows = await this.searchRead('res.company', [], ['name', 'currency_id'], undefined);
      this.companies = rows.map((r) => ({
        id: r.id as number,
        name: r.name as string,
        currency: m2oName(r.currency_id) ?? '',
      }));
    }
    return this.companies;
  }

  /** Active currencies. */
  async listCurrencies(companyId: number): Promise<OdooCurrency[]> {
    const rows = await this.searchRead(
      'res.currency',
      [['active', '=', true]],
      ['name', 'symbol', 'decimal_places'],
      companyId,
    );
    return rows.map((r) => ({
      id: r.id as number,
      code: r.name as string,
      symbol: r.symbol as string,
      decimalPlaces: r.decimal_places as number,
    }));
  }

  /** Exchange rates of the company, newest first (a rate is a ratio, not an amount, so it stays decimal text). */
  async listCurrencyRates(companyId: number, options: { limit?: number } = {}): Promise<OdooCurrencyRate[]> {
    const rows = (await this.transport.call({
      model: 'res.currency.rate',
      method: 'search_read',
      params: {
        domain: ['|', ['company_id', '=', false], ['company_id', '=', companyId]],
        fields: ['name', 'rate', 'currency_id'],
        order: 'name desc, id desc',
        limit: options.limit ?? 200,
      },
      context: this.contextFor(companyId),
    })) as Row[];
    return rows.map((r) => ({
      currency: m2oName(r.currency_id) ?? '',
      date: r.name as string,
      rate: String(r.rate as number),
    }));
  }

  /** Partners visible in the company, optionally only the given ids. */
  async listPartners(
    companyId: number,
    options: { ids?: number[]; limit?: number } = {},
  ): Promise<OdooPartner[]> {
    const domain = options.ids ? [['id', 'in', options.ids]] : [];
    const rows = await this.searchRead(
      'res.partner',
      domain,
      ['name', 'is_company', 'vat', 'email'],
      companyId,
      options.limit,
    );
    return rows.map((r) => ({
      id: r.id as number,
      name: r.name as string,
      isCompany: r.is_company === true,
      vat: str(r.vat),
      email: str(r.email),
    }));
  }

  /** Bank accounts of partners (`res.partner.bank`). */
  async listPartnerBanks(
    companyId: number,
    options: { partnerIds?: number[] } = {},
  ): Promise<OdooPartnerBank[]> {
    const domain = options.partnerIds ? [['partner_id', 'in', options.partnerIds]] : [];
    const rows = await this.searchRead(
      'res.partner.bank',
      domain,
      ['acc_number', 'partner_id', 'currency_id'],
      companyId,
    );
    return rows.map((r) => ({
      id: r.id as number,
      partnerId: m2oId(r.partner_id) ?? 0,
      accountNumber: r.acc_number as string,
      currency: m2oName(r.currency_id),
    }));
  }

  /** Bank journals of the company with their bank account and suspense account. */
  async listBankJournals(companyId: number): Promise<OdooBankJournal[]> {
    const company = await this.requireCompany(companyId);
    const rows = await this.searchRead(
      'account.journal',
      [
        ['type', '=', 'bank'],
        ['company_id', '=', companyId],
      ],
      ['name', 'code', 'company_id', 'currency_id', 'bank_account_id', 'suspense_account_id'],
      companyId,
    );
    return rows.map((r) => ({
      id: r.id as number,
      name: r.name as string,
      code: r.code as string,
      companyId: m2oId(r.company_id) ?? companyId,
      // A journal without its own currency books in the company currency.
      currency: m2oName(r.currency_id) ?? company.currency,
      bankAccountId: m2oId(r.bank_account_id),
      accountNumber: m2oName(r.bank_account_id),
      suspenseAccountId: m2oId(r.suspense_account_id),
    }));
  }

  /** The company's chart of accounts. */
  async listAccounts(companyId: number): Promise<OdooAccount[]> {
    const companyField = this.version.major >= 18 ? 'company_ids' : 'company_id';
    const rows = await this.searchRead(
      'account.account',
      [[companyField, 'in', [companyId]]],
      ['code', 'name', 'account_type', 'reconcile'],
      companyId,
    );
    return rows.map((r) => ({
      id: r.id as number,
      code: r.code as string,
      name: r.name as string,
      accountType: r.account_type as string,
      reconcile: r.reconcile === true,
    }));
  }

  /** Analytic accounts of the company (and shared ones). */
  async listAnalyticAccounts(companyId: number): Promise<OdooAnalyticAccount[]> {
    const rows = await this.searchRead(
      'account.analytic.account',
      ['|', ['company_id', '=', false], ['company_id', '=', companyId]],
      ['name', 'code', 'plan_id'],
      companyId,
    );
    return rows.map((r) => ({
      id: r.id as number,
      name: r.name as string,
      code: str(r.code),
      planId: m2oId(r.plan_id),
    }));
  }

  /** Posted invoices, bills and refunds with something left to pay. */
  async listOpenItems(
    companyId: number,
    options: { partnerIds?: number[]; kinds?: OpenItemKind[] } = {},
  ): Promise<OdooOpenItem[]> {
    const domain: unknown[] = [
      ['state', '=', 'posted'],
      ['move_type', 'in', options.kinds ?? ['out_invoice', 'in_invoice', 'out_refund', 'in_refund']],
      ['amount_residual', '>', 0],
      ['company_id', '=', companyId],
    ];
    if (options.partnerIds) domain.push(['partner_id', 'in', options.partnerIds]);
    const rows = await this.searchRead('account.move', domain, openItemFields, companyId);
    return rows.map(toOpenItem);
  }

  /** Invoices or bills by id, whatever their state (e.g. to see a residual after reconciliation). */
  async readMoves(companyId: number, ids: number[]): Promise<OdooOpenItem[]> {
    const rows = (await this.execute(companyId, {
      model: 'account.move',
      method: 'read',
      ids,
      params: { fields: openItemFields },
    })) as Row[];
    return rows.map(toOpenItem);
  }

  /** The open receivable/payable journal items of the given invoices or bills. */
  async listOpenLines(companyId: number, moveIds: number[]): Promise<OdooOpenLine[]> {
    const rows = await this.searchRead(
      'account.move.line',
      [
        ['move_id', 'in', moveIds],
        ['account_type', 'in', ['asset_receivable', 'liability_payable']],
        ['reconciled', '=', false],
      ],
      ['move_id', 'account_id', 'partner_id', 'currency_id', 'amount_residual_currency'],
      companyId,
    );
    return rows.map((r) => ({
      id: r.id as number,
      moveId: m2oId(r.move_id) ?? 0,
      accountId: m2oId(r.account_id) ?? 0,
      partnerId: m2oId(r.partner_id),
      residual: fromOdooAmount(r.amount_residual_currency as number, m2oName(r.currency_id) ?? ''),
    }));
  }

  /** Writes statement lines idempotently: same input twice gives the same ids and no new records. */
  async createStatementLines(
    companyId: number,
    lines: StatementLineInput[],
    options: WriteOptions = {},
  ): Promise<BatchWriteResult> {
    return loadInBatches(this.transport, {
      model: 'account.bank.statement.line',
      fields: [
        'journal_id/.id',
        'date',
        'payment_ref',
        'amount',
        'partner_id/.id',
        'partner_name',
        'account_number',
        'transaction_type',
      ],
      rows: lines.map((l) => ({
        externalId: statementLineExternalId(l),
        values: [
          String(l.journalId),
          l.date,
          l.paymentRef,
          toOdooDecimal(l.amount),
          l.partnerId === undefined ? '' : String(l.partnerId),
          l.partnerName ?? '',
          l.counterpartyAccount ?? '',
          l.transactionType ?? '',
        ],
      })),
      context: this.contextFor(companyId),
      batchSize: options.batchSize,
    });
  }

  /** Reads statement lines by id. */
  async readStatementLines(companyId: number, ids: number[]): Promise<OdooStatementLine[]> {
    const rows = (await this.execute(companyId, {
      model: 'account.bank.statement.line',
      method: 'read',
      ids,
      params: { fields: statementLineFields },
    })) as Row[];
    return rows.map((r) => {
      const currency = m2oName(r.currency_id) ?? '';
      return {
        id: r.id as number,
        moveId: m2oId(r.move_id) ?? 0,
        journalId: m2oId(r.journal_id) ?? 0,
        date: r.date as string,
        paymentRef: str(r.payment_ref) ?? '',
        amount: fromOdooAmount(r.amount as number, currency),
        partnerId: m2oId(r.partner_id),
        isReconciled: r.is_reconciled === true,
        residual: fromOdooAmount(r.amount_residual as number, currency),
      };
    });
  }

  /** Counts statement lines of a journal (used to prove that a replay created nothing). */
  async countStatementLines(companyId: number, journalId: number): Promise<number> {
    return (await this.execute(companyId, {
      model: 'account.bank.statement.line',
      method: 'search_count',
      params: { domain: [['journal_id', '=', journalId]] },
    })) as number;
  }

  /** Creates payments idempotently and posts the ones still in draft. */
  async createPayments(
    companyId: number,
    payments: PaymentInput[],
    options: WriteOptions = {},
  ): Promise<BatchWriteResult> {
    const memoField = this.version.major >= 18 ? 'memo' : 'ref';
    const result = await loadInBatches(this.transport, {
      model: 'account.payment',
      fields: [
        'payment_type',
        'partner_type',
        'partner_id/.id',
        'journal_id/.id',
        'amount',
        'currency_id/.id',
        'date',
        memoField,
      ],
      rows: await Promise.all(
        payments.map(async (p) => ({
          externalId: createExternalId('pay', [p.key]),
          values: [
            p.paymentType,
            p.partnerType,
            String(p.partnerId),
            String(p.journalId),
            toOdooDecimal(p.amount),
            String(await this.requireCurrencyId(companyId, p.amount.currency)),
            p.date,
            p.memo,
          ],
        })),
      ),
      context: this.contextFor(companyId),
      batchSize: options.batchSize,
    });
    const ids = result.outcomes.flatMap((o) => (o.id === undefined ? [] : [o.id]));
    if (ids.length > 0) {
      const drafts = (await this.readPayments(companyId, ids))
        .filter((p) => p.state === 'draft')
        .map((p) => p.id);
      if (drafts.length > 0)
        await this.execute(companyId, { model: 'account.payment', method: 'action_post', ids: drafts });
    }
    return result;
  }

  /** Reads payments by id. */
  async readPayments(companyId: number, ids: number[]): Promise<OdooPayment[]> {
    const rows = (await this.execute(companyId, {
      model: 'account.payment',
      method: 'read',
      ids,
      params: { fields: ['state', 'amount', 'currency_id', 'partner_id'] },
    })) as Row[];
    return rows.map((r) => ({
      id: r.id as number,
      state: r.state as string,
      amount: fromOdooAmount(r.amount as number, m2oName(r.currency_id) ?? ''),
      partnerId: m2oId(r.partner_id),
    }));
  }

  /**
   * Reconciles a statement line with open journal items the Community way (ADR 0004): the line's
   * suspense item is re-pointed to the items' receivable/payable account and partner, then reconciled.
   */
  async reconcileStatementLine(
    companyId: number,
    input: { statementLineId: number; moveLineIds: number[] },
  ): Promise<void> {
    if (input.moveLineIds.length === 0)
      throw new ValidationError('reconciliation needs at least one journal item');
    const [line] = (await this.execute(companyId, {
      model: 'account.bank.statement.line',
      method: 'read',
      ids: [input.statementLineId],
      params: { fields: ['move_id', 'journal_id'] },
    })) as Row[];
    if (!line)
      throw new NotFoundError(`statement line ${input.statementLineId} not found`, {
        code: ErrorCodes.ODOO_MISSING_RECORD,
      });
    // Not `is_reconciled`: Odoo sets it as soon as the suspense item is re-pointed, before the
    // reconcile, so a run that stopped between the two would never be finished. The open items of
    // the line's entry decide below.
    const [journal] = (await this.execute(companyId, {
      model: 'account.journal',
      method: 'read',
      ids: [m2oId(line.journal_id) ?? 0],
      params: { fields: ['suspense_account_id'] },
    })) as Row[];
    const targets = (await this.execute(companyId, {
      model: 'account.move.line',
      method: 'read',
      ids: input.moveLineIds,
      params: { fields: ['account_id', 'partner_id', 'reconciled'] },
    })) as Row[];
    const accounts = new Set(targets.map((t) => m2oId(t.account_id)));
    const first = targets[0];
    if (!first || accounts.size !== 1)
      throw new ValidationError('the journal items must share one receivable or payable account');
    if (targets.some((t) => t.reconciled === true))
      throw new ConflictError('a journal item is already reconciled');
    const targetAccount = m2oId(first.account_id) ?? 0;
    // Also look on the target account: a crash between re-pointing and reconciling leaves the item there,
    // and picking it up again makes the whole operation safe to repeat.
    const candidates = await this.searchRead(
      'account.move.line',
      [
        ['move_id', '=', m2oId(line.move_id) ?? 0],
        ['account_id', 'in', [m2oId(journal?.suspense_account_id) ?? 0, targetAccount]],
        ['reconciled', '=', false],
      ],
      ['account_id'],
      companyId,
    );
    const candidate = candidates.find((c) => m2oId(c.account_id) !== targetAccount) ?? candidates[0];
    const suspenseId = candidate?.id as number | undefined;
    if (suspenseId === undefined)
      throw new ConflictError(
        `statement line ${input.statementLineId} is already reconciled (no open counterpart item left)`,
      );
    if (m2oId(candidate?.account_id) !== targetAccount) {
      await this.execute(companyId, {
        model: 'account.move.line',
        method: 'write',
        ids: [suspenseId],
        params: { vals: { account_id: targetAccount, partner_id: m2oId(first.partner_id) ?? false } },
      });
    }
    await this.execute(companyId, {
      model: 'account.move.line',
      method: 'reconcile',
      ids: [suspenseId, ...input.moveLineIds],
    });
  }

  /** Undoes the reconciliation of a statement line; its suspense item comes back. */
  async undoReconciliation(companyId: number, statementLineId: number): Promise<void> {
    await this.execute(companyId, {
      model: 'account.bank.statement.line',
      method: 'action_undo_reconciliation',
      ids: [statementLineId],
    });
  }

  private contextFor(companyId: number): Record<string, unknown> {
    // The first allowed company is the active one; naming only one keeps every read inside the legal entity.
    return { allowed_company_ids: [companyId] };
  }

  private async searchRead(
    model: string,
    domain: unknown[],
    fields: string[],
    companyId: number | undefined,
    limit?: number,
  ): Promise<Row[]> {
    return (await this.transport.call({
      model,
      method: 'search_read',
      params: { domain, fields, order: 'id asc', ...(limit === undefined ? {} : { limit }) },
      ...(companyId === undefined ? {} : { context: this.contextFor(companyId) }),
    })) as Row[];
  }

  private async requireCompany(companyId: number): Promise<OdooCompany> {
    const company = (await this.listCompanies()).find((c) => c.id === companyId);
    if (!company)
      throw new NotFoundError(`Odoo company ${companyId} is not available to this user`, {
        code: ErrorCodes.ODOO_MISSING_RECORD,
      });
    return company;
  }

  private currencyIds = new Map<string, number>();

  private async requireCurrencyId(companyId: number, code: string): Promise<number> {
    if (!this.currencyIds.has(code)) {
      for (const c of await this.listCurrencies(companyId)) this.currencyIds.set(c.code, c.id);
    }
    const id = this.currencyIds.get(code);
    if (id === undefined)
      throw new ValidationError(`currency ${code} is not active in Odoo`, [], {
        code: ErrorCodes.ODOO_VALIDATION,
      });
    return id;
  }
}

/** The external id of a statement line, from bank account + statement id + entry reference. */
export function statementLineExternalId(
  line: Pick<StatementLineInput, 'bankAccount' | 'statementId' | 'entryRef'>,
): string {
  return createExternalId('stl', [line.bankAccount, line.statementId, line.entryRef]);
}

type Row = Record<string, unknown>;

function m2oId(value: unknown): number | undefined {
  return Array.isArray(value) && typeof value[0] === 'number' ? value[0] : undefined;
}

function m2oName(value: unknown): string | undefined {
  return Array.isArray(value) && typeof value[1] === 'string' ? value[1] : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function toOpenItem(r: Row): OdooOpenItem {
  const currency = m2oName(r.currency_id) ?? '';
  return {
    id: r.id as number,
    name: r.name as string,
    kind: r.move_type as OpenItemKind,
    state: r.state as string,
    paymentState: r.payment_state as string,
    partnerId: m2oId(r.partner_id),
    partnerName: m2oName(r.partner_id),
    total: fromOdooAmount(r.amount_total as number, currency),
    residual: fromOdooAmount(r.amount_residual as number, currency),
    paymentReference: str(r.payment_reference),
    ref: str(r.ref),
    invoiceDate: str(r.invoice_date),
    dueDate: str(r.invoice_date_due),
  };
}

/**
 * The Odoo side of the reconciliation port: open items mapped to the engine's shape, the
 * partner-by-IBAN index, and reconciliation of a bank statement line with the open receivable or
 * payable items of the chosen invoices (ADR 0004's Community way, through {@link OdooClient}).
 */
import { electronicFormatIBAN } from 'ibantools';
import {
  ConflictError,
  ErrorCodes,
  money,
  NotFoundError,
  ValidationError,
  type Money,
  type LedgerJournalLine,
  type LedgerOpenItem,
  type LedgerReconciliation,
  type LedgerReconciliationOutcome,
  type ReconciliationLedger,
  type RegisteredPayment,
} from '../../domain/index.ts';
import { fromOdooAmount, toOdooNumber } from './amounts.ts';
import { createExternalId } from './batch.ts';
import type { OdooClient, OdooOpenItem, OpenItemKind } from './client.ts';

/** How an allocation names a registered payment instead of an invoice: `payment:<account.payment id>`. */
export const PAYMENT_ITEM_PREFIX = 'payment:';

/** The reconciliation port plus the payment-run link (structurally what the flow's deps ask for). */
export interface OdooReconciliationLedger extends ReconciliationLedger {
  /** Payments registered by Kontor under these EndToEndIds, keyed by EndToEndId. */
  findRegisteredPayments(
    companyId: number | undefined,
    endToEndIds: readonly string[],
  ): Promise<Map<string, RegisteredPayment>>;
}

type Row = Record<string, unknown>;

function m2oId(value: unknown): number | undefined {
  return Array.isArray(value) && typeof value[0] === 'number' ? value[0] : undefined;
}

function m2oName(value: unknown): string | undefined {
  return Array.isArray(value) && typeof value[1] === 'string' ? value[1] : undefined;
}

/** a / b rounded half away from zero, in bigint. */
function divRound(a: bigint, b: bigint): bigint {
  const negative = a < 0n !== b < 0n;
  const x = a < 0n ? -a : a;
  const y = b < 0n ? -b : b;
  const q = (2n * x + y) / (2n * y);
  return negative ? -q : q;
}

export interface OdooReconciliationLedgerOptions {
  /** How long the partner-by-IBAN index is reused (default 5 minutes). */
  partnerCacheMs?: number;
  now?: () => number;
}

const kinds: Record<OpenItemKind, LedgerOpenItem['kind']> = {
  out_invoice: 'customer_invoice',
  in_invoice: 'vendor_bill',
  out_refund: 'customer_credit_note',
  in_refund: 'vendor_credit_note',
};

function normaliseAccount(value: string): string {
  return electronicFormatIBAN(value) ?? value.replace(/\s+/g, '').toUpperCase();
}

function toLedgerItem(item: OdooOpenItem): LedgerOpenItem {
  return {
    id: String(item.id),
    number: item.name,
    kind: kinds[item.kind],
    partnerId: item.partnerId === undefined ? '' : String(item.partnerId),
    amount: item.total,
    residual: item.residual,
    // An item without a due date is due when it was issued (Odoo's own fallback for payment terms).
    dueDate: item.dueDate ?? item.invoiceDate ?? '1970-01-01',
    ...(item.paymentReference === undefined
      ? item.ref === undefined
        ? {}
        : { paymentReference: item.ref }
      : { paymentReference: item.paymentReference }),
  };
}

/** Implements {@link ReconciliationLedger} over an Odoo client. */
export function createOdooReconciliationLedger(
  client: OdooClient,
  options: OdooReconciliationLedgerOptions = {},
): OdooReconciliationLedger {
  const now = options.now ?? Date.now;
  const partners = new Map<number, { at: number; byIban: Map<string, string> }>();
  let defaultCompany: number | undefined;

  async function companyOf(companyId: number | undefined): Promise<number> {
    if (companyId !== undefined) return companyId;
    defaultCompany ??= (await client.listCompanies())[0]?.id;
    if (defaultCompany === undefined) throw new NotFoundError('the Odoo user has no company');
    return defaultCompany;
  }

  const writeOffAccounts = new Map<string, number>();
  const companyCurrencies = new Map<number, string>();

  async function companyCurrency(companyId: number): Promise<string> {
    if (!companyCurrencies.has(companyId))
      for (const c of await client.listCompanies()) companyCurrencies.set(c.id, c.currency);
    const currency = companyCurrencies.get(companyId);
    if (currency === undefined) throw new NotFoundError(`Odoo company ${companyId} is not available`);
    return currency;
  }

  /**
   * The Odoo account of a configured write-off account: an account code of the company, or
   * `bank-charges` (the chart's bank fees account, xml id `account.<company>_expense_finance`) or
   * `fx-difference` (the company's exchange gain or loss account, by the sign of the difference).
   */
  async function writeOffAccountId(companyId: number, configured: string, debit: boolean): Promise<number> {
    const key = `${companyId}:${configured}:${debit ? 'd' : 'c'}`;
    const cached = writeOffAccounts.get(key);
    if (cached !== undefined) return cached;
    let id = (await client.listAccounts(companyId)).find((a) => a.code === configured)?.id;
    if (id === undefined && configured === 'fx-difference') {
      const [row] = (await client.execute(companyId, {
        model: 'res.company',
        method: 'read',
        ids: [companyId],
        params: { fields: ['income_currency_exchange_account_id', 'expense_currency_exchange_account_id'] },
      })) as Row[];
      id = m2oId(
        debit ? row?.expense_currency_exchange_account_id : row?.income_currency_exchange_account_id,
      );
    }
    if (id === undefined && configured === 'bank-charges') {
      const [row] = (await client.execute(companyId, {
        model: 'ir.model.data',
        method: 'search_read',
        params: {
          domain: [
            ['module', '=', 'account'],
            ['name', '=', `${companyId}_expense_finance`],
            ['model', '=', 'account.account'],
          ],
          fields: ['res_id'],
        },
      })) as Row[];
      id = row?.res_id as number | undefined;
    }
    if (id === undefined)
      throw new ValidationError(
        `write-off account "${configured}" is neither an account code of Odoo company ${companyId} nor one it can find for bank-charges/fx-difference; set reconciliation.rules.writeOffAccounts to an account code`,
        [{ path: 'reconciliation.rules.writeOffAccounts', message: 'unknown account' }],
        { code: ErrorCodes.ODOO_VALIDATION },
      );
    writeOffAccounts.set(key, id);
    return id;
  }

  /** The open journal items a line is reconciled with: the invoices' receivable/payable items, or a payment's outstanding item. */
  async function targetItems(
    companyId: number,
    allocations: LedgerReconciliation['allocations'],
  ): Promise<number[]> {
    const paymentIds = allocations.flatMap((a) =>
      a.itemId.startsWith(PAYMENT_ITEM_PREFIX) ? [Number(a.itemId.slice(PAYMENT_ITEM_PREFIX.length))] : [],
    );
    if (paymentIds.length > 0) {
      if (paymentIds.length !== allocations.length)
        throw new ValidationError('a line is reconciled with one payment or with invoices, not both');
      const payments = (await client.execute(companyId, {
        model: 'account.payment',
        method: 'read',
        ids: paymentIds,
        params: { fields: ['move_id'] },
      })) as Row[];
      const moveIds = payments.flatMap((p) => (m2oId(p.move_id) === undefined ? [] : [m2oId(p.move_id)!]));
      // The payment's outstanding item (Outstanding Payments/Receipts), not its payable/receivable one.
      const lines = (await client.execute(companyId, {
        model: 'account.move.line',
        method: 'search_read',
        params: {
          domain: [
            ['move_id', 'in', moveIds],
            ['account_type', 'not in', ['asset_receivable', 'liability_payable']],
            ['reconciled', '=', false],
          ],
          fields: ['move_id'],
          order: 'id asc',
        },
      })) as Row[];
      if (lines.length === 0)
        throw new ConflictError(
          `Odoo payment(s) ${paymentIds.join(', ')} have no open outstanding item left (matched already?)`,
        );
      return lines.map((l) => l.id as number);
    }
    const moveIds = allocations.map((a) => Number(a.itemId));
    const open = await client.listOpenLines(companyId, moveIds);
    const missing = moveIds.filter((id) => !open.some((l) => l.moveId === id));
    if (missing.length > 0)
      throw new ConflictError(
        `Odoo move(s) ${missing.join(', ')} have no open receivable or payable item left`,
      );
    // Odoo pairs items in order and settles the smaller residual of each pair, so the allocations'
    // order is kept: fully paid items first, the partially paid one last (as the engine orders them).
    return moveIds.flatMap((id) => open.filter((l) => l.moveId === id).map((l) => l.id));
  }

  /**
   * ADR 0004 with write-offs: one `write` of the statement line's entry re-points the suspense item to
   * the targets' account and partner and, for a write-off, adds the rest of the receivable/payable
   * part and the write-off item (Odoo 18 refuses to change the amount of a posted item, adding
   * balanced items is allowed); then one `reconcile`. The write is atomic, so the suspense item is
   * gone exactly when the write-off is booked: a run that crashed after it finds the items on the
   * target account and only reconciles. Returns whether a write-off is booked on the entry.
   */
  async function settle(
    companyId: number,
    line: { id: number; moveId: number; journalId: number; amount: Money },
    targetIds: number[],
    writeOff: LedgerReconciliation['writeOff'],
  ): Promise<boolean> {
    const targets = (await client.execute(companyId, {
      model: 'account.move.line',
      method: 'read',
      ids: targetIds,
      params: { fields: ['account_id', 'partner_id', 'reconciled'] },
    })) as Row[];
    const accounts = new Set(targets.map((t) => m2oId(t.account_id)));
    const first = targets[0];
    if (first === undefined || accounts.size !== 1)
      throw new ValidationError(
        'the journal items must share one receivable, payable or outstanding account',
      );
    if (targets.some((t) => t.reconciled === true))
      throw new ConflictError('a journal item is already reconciled');
    const targetAccount = m2oId(first.account_id)!;
    const partner = m2oId(first.partner_id) ?? false;
    let entry = await entryState(companyId, line);
    const { suspense, suspenseAccount, liquidityAccount } = entry;
    if (suspense !== undefined) {
      const commands: unknown[] = [[1, suspense.id, { account_id: targetAccount, partner_id: partner }]];
      const lineCurrency = m2oName(suspense.currency_id) ?? line.amount.currency;
      if (writeOff !== undefined && writeOff.amount.currency === lineCurrency) {
        const booking = await writeOffBooking(companyId, suspense, lineCurrency, writeOff);
        const account = await writeOffAccountId(companyId, writeOff.account, booking.balance.amount < 0n);
        const label = `Write-off ${writeOff.account}`;
        commands.push(
          [
            0,
            0,
            {
              account_id: targetAccount,
              partner_id: partner,
              name: label,
              currency_id: m2oId(suspense.currency_id),
              amount_currency: toOdooNumber(booking.amountCurrency),
              balance: toOdooNumber(booking.balance),
            },
          ],
          [
            0,
            0,
            {
              account_id: account,
              partner_id: partner,
              name: label,
              currency_id: m2oId(suspense.currency_id),
              amount_currency: -toOdooNumber(booking.amountCurrency),
              balance: -toOdooNumber(booking.balance),
            },
          ],
        );
      }
      await client.execute(companyId, {
        model: 'account.bank.statement.line',
        method: 'write',
        ids: [line.id],
        params: { vals: { line_ids: commands } },
      });
      entry = await entryState(companyId, line);
    }
    const own = entry.open.filter((i) => m2oId(i.account_id) === targetAccount);
    if (own.length === 0)
      throw new ConflictError(`statement line ${line.id} has no open counterpart item left`);
    await client.execute(companyId, {
      model: 'account.move.line',
      method: 'reconcile',
      ids: [...own.map((i) => i.id as number), ...targetIds],
    });
    // Booked when the entry holds an item besides liquidity, suspense and the target account.
    return entry.items.some(
      (i) => ![liquidityAccount, suspenseAccount, targetAccount].includes(m2oId(i.account_id)),
    );
  }

  /**
   * The receivable/payable part a write-off adds: the write-off amount on the target account (the
   * write-off item takes the opposite), in the line's currency and, proportionally to the suspense
   * item, in the company currency.
   */
  async function writeOffBooking(
    companyId: number,
    suspense: Row,
    lineCurrency: string,
    writeOff: NonNullable<LedgerReconciliation['writeOff']>,
  ): Promise<{ amountCurrency: Money; balance: Money }> {
    const company = await companyCurrency(companyId);
    // sum(allocations) + writeOff = line: the receivable/payable side takes −(line − writeOff), the
    // re-pointed suspense item already holds −line, so the added part is +writeOff.
    const amountCurrency = money(writeOff.amount.amount, lineCurrency);
    if (company === lineCurrency) return { amountCurrency, balance: money(amountCurrency.amount, company) };
    const suspenseBalance = fromOdooAmount(suspense.balance as number, company).amount;
    const suspenseAmount = fromOdooAmount(suspense.amount_currency as number, lineCurrency).amount;
    const scaled =
      suspenseAmount === 0n ? 0n : divRound(suspenseBalance * amountCurrency.amount, suspenseAmount);
    return { amountCurrency, balance: money(scaled, company) };
  }

  /**
   * The statement line's entry: its suspense item if still there, and its open counterpart items
   * (not liquidity, not suspense, reconcilable and not reconciled). Done when neither is left.
   */
  async function entryState(
    companyId: number,
    line: { moveId: number; journalId: number },
  ): Promise<{
    done: boolean;
    suspense: Row | undefined;
    open: Row[];
    items: Row[];
    suspenseAccount: number | undefined;
    liquidityAccount: number | undefined;
  }> {
    const [journal] = (await client.execute(companyId, {
      model: 'account.journal',
      method: 'read',
      ids: [line.journalId],
      params: { fields: ['suspense_account_id', 'default_account_id'] },
    })) as Row[];
    const suspenseAccount = m2oId(journal?.suspense_account_id);
    const liquidityAccount = m2oId(journal?.default_account_id);
    const items = (await client.execute(companyId, {
      model: 'account.move.line',
      method: 'search_read',
      params: {
        domain: [['move_id', '=', line.moveId]],
        fields: ['account_id', 'reconciled', 'balance', 'amount_currency', 'currency_id', 'amount_residual'],
        order: 'id asc',
      },
    })) as Row[];
    const suspense = items.find((i) => m2oId(i.account_id) === suspenseAccount && i.reconciled !== true);
    const open = items.filter((i) => {
      const account = m2oId(i.account_id);
      return (
        account !== suspenseAccount &&
        account !== liquidityAccount &&
        i.reconciled !== true &&
        typeof i.amount_residual === 'number' &&
        i.amount_residual !== 0
      );
    });
    return {
      done: suspense === undefined && open.length === 0,
      suspense,
      open,
      items,
      suspenseAccount,
      liquidityAccount,
    };
  }

  return {
    async listOpenItems(companyId) {
      const company = await companyOf(companyId);
      // Items without a partner cannot be paid by a bank line through any rule but the amount alone.
      return (await client.listOpenItems(company)).map(toLedgerItem);
    },

    async listPartnersByIban(companyId) {
      const company = await companyOf(companyId);
      const cached = partners.get(company);
      if (cached !== undefined && now() - cached.at < (options.partnerCacheMs ?? 300_000))
        return cached.byIban;
      const byIban = new Map<string, string>();
      for (const bank of await client.listPartnerBanks(company))
        if (bank.partnerId !== 0) byIban.set(normaliseAccount(bank.accountNumber), String(bank.partnerId));
      partners.set(company, { at: now(), byIban });
      return byIban;
    },

    async reconcileLine(request: LedgerReconciliation): Promise<LedgerReconciliationOutcome> {
      const company = await companyOf(request.companyId);
      const wantsWriteOff = request.writeOff !== undefined && request.writeOff.amount.amount !== 0n;
      const [line] = await client.readStatementLines(company, [request.statementLineId]);
      if (line === undefined)
        throw new NotFoundError(`Odoo statement line ${request.statementLineId} not found`);
      // Odoo's is_reconciled is true as soon as the suspense item is gone, even when the re-pointed
      // item is still open (a run that crashed between write and reconcile): look at the entry instead.
      if ((await entryState(company, line)).done)
        return { status: 'already_reconciled', writeOffSkipped: false };
      const targets = await targetItems(company, request.allocations);
      try {
        const booked = await settle(company, line, targets, wantsWriteOff ? request.writeOff : undefined);
        return { status: 'reconciled', writeOffSkipped: wantsWriteOff && !booked };
      } catch (e) {
        // Someone (a person in Odoo, or a concurrent run) got there first.
        if (e instanceof ConflictError && (await entryState(company, line)).done)
          return { status: 'already_reconciled', writeOffSkipped: false };
        throw e;
      }
    },

    async findRegisteredPayments(companyId, endToEndIds) {
      const company = await companyOf(companyId);
      const found = new Map<string, RegisteredPayment>();
      if (endToEndIds.length === 0) return found;
      // The payment adapter registers each payment under the external id of its EndToEndId.
      const byName = new Map(
        endToEndIds.map((e2e) => [createExternalId('pay', [e2e]).split('.')[1]!, e2e] as const),
      );
      const xmlids = (await client.execute(company, {
        model: 'ir.model.data',
        method: 'search_read',
        params: {
          domain: [
            ['module', '=', 'kontor'],
            ['model', '=', 'account.payment'],
            ['name', 'in', [...byName.keys()]],
          ],
          fields: ['name', 'res_id'],
        },
      })) as Row[];
      if (xmlids.length === 0) return found;
      const payments = (await client.execute(company, {
        model: 'account.payment',
        method: 'read',
        ids: xmlids.map((x) => x.res_id as number),
        params: {
          fields: [
            'name',
            'state',
            'amount',
            'currency_id',
            'partner_id',
            'payment_type',
            'is_matched',
            'reconciled_bill_ids',
          ],
        },
      })) as Row[];
      for (const x of xmlids) {
        const p = payments.find((r) => r.id === x.res_id);
        const e2e = byName.get(x.name as string);
        if (p === undefined || e2e === undefined) continue;
        found.set(e2e, {
          paymentId: p.id as number,
          name: typeof p.name === 'string' ? p.name : `payment ${String(p.id)}`,
          state: p.state as string,
          outbound: p.payment_type === 'outbound',
          matched: p.is_matched === true,
          amount: fromOdooAmount(p.amount as number, m2oName(p.currency_id) ?? ''),
          partnerId: m2oId(p.partner_id) === undefined ? '' : String(m2oId(p.partner_id)),
          billIds: Array.isArray(p.reconciled_bill_ids)
            ? (p.reconciled_bill_ids as number[]).map(String)
            : [],
        });
      }
      return found;
    },

    async undoReconciliation(companyId, statementLineId) {
      await client.undoReconciliation(await companyOf(companyId), statementLineId);
    },

    async listJournalLines(companyId, journal, date): Promise<LedgerJournalLine[]> {
      const company = await companyOf(companyId);
      const found = (await client.listBankJournals(company)).find(
        (j) => j.id === journal || j.code === journal || j.name === journal,
      );
      if (found === undefined)
        throw new NotFoundError(`Odoo company ${company} has no bank journal "${String(journal)}"`);
      const journalId = found.id;
      const rows = (await client.execute(company, {
        model: 'account.bank.statement.line',
        method: 'search_read',
        params: {
          // The date is filtered here rather than in the domain: the sandbox compares domain values as
          // numbers, and one read of the journal per daily check is cheap.
          domain: [['journal_id', '=', journalId]],
          fields: ['date', 'amount', 'currency_id'],
          order: 'date asc, id asc',
        },
      })) as { id: number; date: string; amount: number; currency_id: unknown }[];
      return rows
        .filter((r) => r.date <= date)
        .map((r) => ({
          id: r.id,
          date: r.date,
          amount: fromOdooAmount(
            r.amount,
            // A line without its own currency is in the journal's.
            Array.isArray(r.currency_id) && typeof r.currency_id[1] === 'string'
              ? r.currency_id[1]
              : found.currency,
          ),
        }));
    },
  };
}

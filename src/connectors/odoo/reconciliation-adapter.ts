/**
 * The Odoo side of the reconciliation port: open items mapped to the engine's shape, the
 * partner-by-IBAN index, and reconciliation of a bank statement line with the open receivable or
 * payable items of the chosen invoices (ADR 0004's Community way, through {@link OdooClient}).
 */
import { electronicFormatIBAN } from 'ibantools';
import {
  ConflictError,
  NotFoundError,
  type LedgerJournalLine,
  type LedgerOpenItem,
  type LedgerReconciliation,
  type LedgerReconciliationOutcome,
  type ReconciliationLedger,
} from '../../domain/index.ts';
import { fromOdooAmount } from './amounts.ts';
import type { OdooClient, OdooOpenItem, OpenItemKind } from './client.ts';

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
): ReconciliationLedger {
  const now = options.now ?? Date.now;
  const partners = new Map<number, { at: number; byIban: Map<string, string> }>();
  let defaultCompany: number | undefined;

  async function companyOf(companyId: number | undefined): Promise<number> {
    if (companyId !== undefined) return companyId;
    defaultCompany ??= (await client.listCompanies())[0]?.id;
    if (defaultCompany === undefined) throw new NotFoundError('the Odoo user has no company');
    return defaultCompany;
  }

  async function isReconciled(companyId: number, statementLineId: number): Promise<boolean> {
    const [line] = await client.readStatementLines(companyId, [statementLineId]);
    if (line === undefined) throw new NotFoundError(`Odoo statement line ${statementLineId} not found`);
    return line.isReconciled;
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
      const writeOffSkipped = request.writeOff !== undefined && request.writeOff.amount.amount !== 0n;
      if (await isReconciled(company, request.statementLineId))
        return { status: 'already_reconciled', writeOffSkipped };
      const moveIds = request.allocations.map((a) => Number(a.itemId));
      const open = await client.listOpenLines(company, moveIds);
      const missing = moveIds.filter((id) => !open.some((l) => l.moveId === id));
      if (missing.length > 0)
        throw new ConflictError(
          `Odoo move(s) ${missing.join(', ')} have no open receivable or payable item left`,
        );
      // Odoo pairs items in order and settles the smaller residual of each pair, so the allocations'
      // order is kept: fully paid items first, the partially paid one last (as the engine orders them).
      const moveLineIds = moveIds.flatMap((id) => open.filter((l) => l.moveId === id).map((l) => l.id));
      try {
        await client.reconcileStatementLine(company, {
          statementLineId: request.statementLineId,
          moveLineIds,
        });
      } catch (e) {
        // Someone (a person in Odoo, or a run that crashed after reconciling) got there first.
        if (e instanceof ConflictError && (await isReconciled(company, request.statementLineId)))
          return { status: 'already_reconciled', writeOffSkipped };
        throw e;
      }
      return { status: 'reconciled', writeOffSkipped };
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

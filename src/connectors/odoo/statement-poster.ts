/**
 * The Odoo side of the statement-import port: books statement lines into the configured bank
 * journal with one batched, idempotent `load` per call, and links each line to the partner
 * whose bank account (IBAN) Odoo knows.
 */
import { electronicFormatIBAN } from 'ibantools';
import {
  NotFoundError,
  type StatementLinePoster,
  type StatementLinePosting,
  type StatementLinePostingOutcome,
} from '../../domain/index.ts';
import type { OdooClient, StatementLineInput } from './client.ts';

export interface OdooStatementPosterOptions {
  batchSize?: number;
  /** How long the partner-by-IBAN index is reused (default 5 minutes). */
  partnerCacheMs?: number;
  now?: () => number;
}

function normaliseAccount(value: string): string {
  return electronicFormatIBAN(value) ?? value.replace(/\s+/g, '').toUpperCase();
}

/** Implements {@link StatementLinePoster} over an Odoo client. */
export function createOdooStatementPoster(
  client: OdooClient,
  options: OdooStatementPosterOptions = {},
): StatementLinePoster {
  const now = options.now ?? Date.now;
  const journals = new Map<string, number>();
  const partners = new Map<number, { at: number; byAccount: Map<string, number> }>();
  let defaultCompany: number | undefined;

  async function companyOf(companyId: number | undefined): Promise<number> {
    if (companyId !== undefined) return companyId;
    defaultCompany ??= (await client.listCompanies())[0]?.id;
    if (defaultCompany === undefined) throw new NotFoundError('the Odoo user has no company');
    return defaultCompany;
  }

  async function journalId(companyId: number, journal: string | number): Promise<number> {
    if (typeof journal === 'number') return journal;
    const key = `${companyId}:${journal}`;
    const cached = journals.get(key);
    if (cached !== undefined) return cached;
    const found = (await client.listBankJournals(companyId)).find(
      (j) => j.code === journal || j.name === journal,
    );
    if (found === undefined)
      throw new NotFoundError(`Odoo company ${companyId} has no bank journal with code "${journal}"`);
    journals.set(key, found.id);
    return found.id;
  }

  async function partnerIndex(companyId: number): Promise<Map<string, number>> {
    const cached = partners.get(companyId);
    if (cached !== undefined && now() - cached.at < (options.partnerCacheMs ?? 300_000))
      return cached.byAccount;
    const byAccount = new Map<string, number>();
    for (const bank of await client.listPartnerBanks(companyId))
      byAccount.set(normaliseAccount(bank.accountNumber), bank.partnerId);
    partners.set(companyId, { at: now(), byAccount });
    return byAccount;
  }

  return {
    async postStatementLines(target, lines: StatementLinePosting[]): Promise<StatementLinePostingOutcome[]> {
      if (lines.length === 0) return [];
      const companyId = await companyOf(target.companyId);
      const journal = await journalId(companyId, target.journal);
      const byAccount = await partnerIndex(companyId);
      const inputs: StatementLineInput[] = lines.map((l) => {
        const partnerId =
          l.counterpartyIban === undefined ? undefined : byAccount.get(normaliseAccount(l.counterpartyIban));
        return {
          journalId: journal,
          bankAccount: l.bankAccountId,
          statementId: l.statementId,
          entryRef: l.entryRef,
          date: l.date,
          amount: l.amount,
          paymentRef: l.paymentRef,
          ...(partnerId === undefined ? {} : { partnerId }),
          ...(l.counterpartyName === undefined ? {} : { partnerName: l.counterpartyName }),
          ...(l.counterpartyIban === undefined ? {} : { counterpartyAccount: l.counterpartyIban }),
          ...(l.transactionType === undefined ? {} : { transactionType: l.transactionType }),
        };
      });
      const result = await client.createStatementLines(
        companyId,
        inputs,
        options.batchSize === undefined ? {} : { batchSize: options.batchSize },
      );
      return result.outcomes.map((o): StatementLinePostingOutcome => {
        const line = lines[o.index]!;
        if (o.status !== 'failed' && o.id !== undefined) {
          const partnerId = inputs[o.index]!.partnerId;
          return {
            lineId: line.lineId,
            status: 'posted',
            odooId: o.id,
            ...(partnerId === undefined ? {} : { partnerId }),
          };
        }
        return { lineId: line.lineId, status: 'failed', error: o.error ?? 'Odoo rejected the line' };
      });
    },
  };
}

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
import { createJournalResolver } from './journal-resolver.ts';

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
  const journalId = createJournalResolver(client);
  const partners = new Map<number, { at: number; byAccount: Map<string, number> }>();
  let defaultCompany: number | undefined;

  async function companyOf(companyId: number | undefined): Promise<number> {
    if (companyId !== undefined) return companyId;
    defaultCompany ??= (await client.listCompanies())[0]?.id;
    if (defaultCompany === undefined) throw new NotFoundError('the Odoo user has no company');
    return defaultCompany;
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

/** Resolves a configured bank journal (code, name or numeric id) to its Odoo id, once per company. */
import { NotFoundError } from '../../domain/index.ts';
import type { OdooClient } from './client.ts';

/** Returns a cached lookup from (company, journal code or id) to the journal's Odoo id. */
export function createJournalResolver(
  client: OdooClient,
): (companyId: number, journal: string | number) => Promise<number> {
  const journals = new Map<string, number>();
  return async (companyId, journal) => {
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
  };
}

/** What the reconciliation flow gets injected: the store, the ledger port, configuration, clock, outbox and audit. */
import type { Clock, ReconciliationLedger, RegisteredPayment } from '../../../domain/index.ts';
import type { Db } from '../../../store/index.ts';
import type { AuditFn, PublishFn } from '../../shared/index.ts';
import type { ReconciliationRules } from '../rules.ts';

/** The part of a configured bank account the flow needs. */
export interface ReconciliationAccount {
  id: string;
  entity: string;
  currency: string;
  odooJournal: string | number;
}

/** The part of a configured legal entity the flow needs. */
export interface ReconciliationEntity {
  id: string;
  odooCompanyId?: number | undefined;
}

/** The outbox and audit functions, as every flow gets them. */
export type ReconciliationPublishFn = PublishFn;
export type ReconciliationAuditFn = AuditFn;

export type { RegisteredPayment } from '../../../domain/index.ts';

/**
 * The payment-run link: the ledger knows the payments Kontor registered by EndToEndId (the Odoo
 * adapter has it; a ledger without it simply never links lines to payments).
 */
export interface RegisteredPaymentFinder {
  findRegisteredPayments(
    companyId: number | undefined,
    endToEndIds: readonly string[],
  ): Promise<Map<string, RegisteredPayment>>;
}

/** How an allocation names a registered payment instead of an invoice (as the Odoo adapter reads it). */
export const PAYMENT_ITEM_PREFIX = 'payment:';

/** Everything the flow needs, injected by main.ts (or a test). */
export interface ReconciliationDeps {
  db: Db;
  accounts: readonly ReconciliationAccount[];
  entities: readonly ReconciliationEntity[];
  ledger: ReconciliationLedger & Partial<RegisteredPaymentFinder>;
  rules: ReconciliationRules;
  publish: ReconciliationPublishFn;
  audit: ReconciliationAuditFn;
  clock: Clock;
  /** Odoo attempts for one decision before it waits for a person (default 5). */
  maxOdooAttempts?: number;
  /** Exception lines re-matched per pass when new open items appear (default 500). */
  rematchBatch?: number;
}

/** Finds the configured account and the Odoo company of its entity. */
export function resolveAccountTarget(
  deps: Pick<ReconciliationDeps, 'accounts' | 'entities'>,
  bankAccountId: string,
): { account: ReconciliationAccount; entityId: string; companyId: number | undefined } | undefined {
  const account = deps.accounts.find((a) => a.id === bankAccountId);
  if (account === undefined) return undefined;
  const entity = deps.entities.find((e) => e.id === account.entity);
  return { account, entityId: account.entity, companyId: entity?.odooCompanyId };
}

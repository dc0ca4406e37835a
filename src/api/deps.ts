/** What route modules get from the composition root (main.ts): application services, never adapters. */
import type { Db } from '../store/index.ts';
import type { Logger } from '../observability/index.ts';
import type { KontorConfig } from '../config/index.ts';
import type { SecurityServices } from './plugins/auth.ts';
import type {
  ImportDetail,
  ImportFileInput,
  ImportListItem,
  ImportSummary,
  PostingResult,
} from '../flows/statement-import/index.ts';
import type { ReconciliationServices } from '../flows/reconciliation/index.ts';

/** One readiness check: resolves to ok/not ok with a short reason, shown at /readyz. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail?: string }>;
}

/** Services available to every route module. Capabilities add their services here. */
export interface ApiServices {
  db: Db;
  config: KontorConfig;
  logger: Logger;
  version: string;
  /** Checks behind /readyz, beyond the store's own (Odoo circuit, bus connection…). */
  readiness: ReadinessCheck[];
  /** Identities, tokens and edge limits; absent = every non-public route answers 401. */
  security?: SecurityServices | undefined;
  /** Bank statement import; absent = the statement routes are not served. */
  statements?: StatementServices | undefined;
  /** Reconciliation; absent = the reconciliation routes are not served. */
  reconciliation?: ReconciliationServices | undefined;
}

/** The statement-import application functions the API and CLI call. */
export interface StatementServices {
  maxBytes: number;
  importFile(input: ImportFileInput): Promise<ImportSummary>;
  list(options: {
    limit?: number;
    before?: string;
    status?: ImportListItem['status'];
  }): Promise<{ data: ImportListItem[]; hasMore: boolean; nextCursor: string | null }>;
  get(id: string): Promise<ImportDetail | undefined>;
  backlog(): Promise<{ bankAccountId: string; pending: number; oldest: string | null }[]>;
  /** Posts every pending line to Odoo now (also done by the hub's posting consumer). */
  postPending(): Promise<PostingResult>;
}

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
import type {
  ApproveResult,
  PaymentActor,
  PaymentOrderDetail,
  PaymentOrderSummary,
  PolicyExplanation,
  ProposalResult,
  ProposePaymentOrderInput,
  ReleaseResult,
  StatusReportResult,
} from '../flows/payment-run/index.ts';
import type { PaymentOrderState } from '../domain/index.ts';

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
  /** The payment run; absent = the payment-order routes are not served. */
  paymentOrders?: PaymentOrderServices | undefined;
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

/** The payment-run application functions the API and CLI call. */
export interface PaymentOrderServices {
  propose(input: ProposePaymentOrderInput): Promise<ProposalResult>;
  list(options: {
    state?: PaymentOrderState | undefined;
    limit?: number | undefined;
  }): Promise<PaymentOrderSummary[]>;
  get(id: string): Promise<PaymentOrderDetail>;
  explain(id: string): Promise<PolicyExplanation>;
  submit(input: { orderId: string; actor: string; correlationId?: string | undefined }): Promise<unknown>;
  approve(input: {
    orderId: string;
    approver: PaymentActor;
    correlationId?: string | undefined;
  }): Promise<ApproveResult>;
  release(input: {
    orderId: string;
    actor: string;
    correlationId?: string | undefined;
  }): Promise<ReleaseResult>;
  cancel(input: {
    orderId: string;
    actor: string;
    reason?: string | undefined;
    correlationId?: string | undefined;
  }): Promise<unknown>;
  file(id: string): Promise<{ fileName: string; sha256: string; xml: string } | undefined>;
  applyStatusReport(input: {
    xml: string;
    actor: string;
    correlationId?: string | undefined;
  }): Promise<StatusReportResult>;
}

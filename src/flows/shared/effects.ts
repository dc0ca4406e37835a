/** The transactional side effects flows get injected by main.ts: an outbox event and an audit record. */
import type { Tx } from '../../store/index.ts';

/** Publishes an event inside a transaction (the outbox). */
export type PublishFn = (
  tx: Tx,
  event: { type: string; data: unknown; subject?: string; correlationId?: string; id?: string },
) => Promise<unknown>;

/** Appends an audit record inside a transaction. */
export type AuditFn = (
  tx: Tx,
  entry: {
    actor: string;
    action: string;
    resourceType: string;
    resourceId?: string;
    before?: unknown;
    after?: unknown;
    correlationId?: string;
    details?: Record<string, unknown>;
  },
) => Promise<unknown>;

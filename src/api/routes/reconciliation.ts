/** The reconciliation exception queue and a person's decisions on it: accept, reject, match by hand, undo. */
import { z } from 'zod';
import { NotFoundError } from '../../domain/index.ts';
import type { RouteModule } from './types.ts';

const reasons = [
  'NO_CANDIDATE',
  'AMBIGUOUS',
  'AMOUNT_MISMATCH',
  'CURRENCY_MISMATCH',
  'PARTNER_MISMATCH',
  'REFERENCE_CHECK_FAILED',
  'REFERENCE_CONFLICT',
  'PARTIAL_PAYMENT',
  'WEAK_EVIDENCE',
  'SEARCH_LIMIT_REACHED',
] as const;
const statuses = [
  'auto_reconciled',
  'proposed',
  'exception',
  'accepted',
  'rejected',
  'manually_matched',
] as const;
const idParams = z.object({ id: z.string().min(1).max(100) });

/** GET /v1/reconciliation/exceptions, GET …/{id}, POST …/{id}/accept|reject|match, POST /v1/reconciliation/lines/{id}/undo. */
export const reconciliationRoutes: RouteModule = async (app, services) => {
  const reconciliation = services.reconciliation;
  if (reconciliation === undefined) return;
  // Every decision names the identity that made it and the request that carried it.
  const actorOf = (identityId: string | undefined, correlationId: string | undefined) => ({
    actor: identityId ?? 'anonymous',
    correlationId: correlationId || undefined,
  });

  app.get(
    '/v1/reconciliation/exceptions',
    {
      config: { scope: 'reconciliation:read' },
      schema: {
        tags: ['reconciliation'],
        summary: 'Lines waiting for a person (proposals and exceptions), oldest first, with reason and age',
        querystring: z.object({
          entity: z.string().max(100).optional(),
          account: z.string().max(100).optional(),
          reason: z.enum(reasons).optional(),
          /** Only items at least this many seconds old. */
          minAgeSeconds: z.coerce.number().int().min(0).optional(),
          status: z.enum(statuses).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().max(500).optional(),
        }),
      },
    },
    async (request) => {
      const q = request.query;
      return reconciliation.listExceptions({
        entityId: q.entity,
        bankAccountId: q.account,
        reason: q.reason,
        minAgeSeconds: q.minAgeSeconds,
        ...(q.status === undefined ? {} : { statuses: [q.status] }),
        limit: q.limit,
        cursor: q.cursor,
      });
    },
  );

  app.get(
    '/v1/reconciliation/exceptions/:id',
    {
      config: { scope: 'reconciliation:read' },
      schema: {
        tags: ['reconciliation'],
        summary: 'One reconciliation item (its id is the statement line id) with the explanation',
        params: idParams,
      },
    },
    async (request) => {
      const item = await reconciliation.get(request.params.id);
      if (item === undefined) throw new NotFoundError(`no reconciliation item ${request.params.id}`);
      return item;
    },
  );

  app.post(
    '/v1/reconciliation/exceptions/:id/accept',
    {
      config: { scope: 'reconciliation:write' },
      schema: {
        tags: ['reconciliation'],
        summary: "Accept the engine's proposal and reconcile the line in Odoo",
        params: idParams,
      },
    },
    async (request) =>
      reconciliation.accept(request.params.id, actorOf(request.identity?.identityId, request.correlationId)),
  );

  app.post(
    '/v1/reconciliation/exceptions/:id/reject',
    {
      config: { scope: 'reconciliation:write' },
      schema: {
        tags: ['reconciliation'],
        summary: 'Reject the proposal (or close the exception); the line stays open in Odoo',
        params: idParams,
        body: z.object({ note: z.string().max(500).optional() }).optional(),
      },
    },
    async (request) =>
      reconciliation.reject(request.params.id, {
        ...actorOf(request.identity?.identityId, request.correlationId),
        note: request.body?.note,
      }),
  );

  app.post(
    '/v1/reconciliation/exceptions/:id/match',
    {
      config: { scope: 'reconciliation:write' },
      schema: {
        tags: ['reconciliation'],
        summary: 'Match the line by hand with the chosen open items (Odoo move ids) and reconcile it in Odoo',
        description:
          "The items' residuals must add up to the line (within the bank-charges tolerance), or the line pays them in the given order with only the last one paid in part; otherwise 400.",
        params: idParams,
        body: z.object({ itemIds: z.array(z.string().min(1).max(50)).min(1).max(50) }),
      },
    },
    async (request) =>
      reconciliation.match(request.params.id, {
        ...actorOf(request.identity?.identityId, request.correlationId),
        itemIds: request.body.itemIds,
      }),
  );

  app.post(
    '/v1/reconciliation/lines/:id/undo',
    {
      config: { scope: 'reconciliation:write' },
      schema: {
        tags: ['reconciliation'],
        summary: "Undo the line's reconciliation in Odoo and put it back in the queue",
        description:
          "Calls Odoo's action_undo_reconciliation on the statement line (write-off items go, the invoice or payment is open again); the line becomes a proposal with its former allocations, or an exception when it had none. Idempotent: a line already in the queue is returned unchanged. 409 for a rejected line.",
        params: idParams,
      },
    },
    async (request) =>
      reconciliation.undo(request.params.id, actorOf(request.identity?.identityId, request.correlationId)),
  );
};

/**
 * Payment orders: propose from open Odoo bills, read, explain the policy, submit, approve, release,
 * cancel, download the file; and pain.002 status reports back. Release needs `payment-orders:write`
 * (it only executes what the approvers decided; the flow re-checks their approvals under lock).
 */
import { z } from 'zod';
import { NotFoundError, paymentOrderStates, ValidationError } from '../../domain/index.ts';
import type { RouteModule } from './types.ts';

const params = z.object({ id: z.string().min(1).max(100) });
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');

/** /v1/payment-orders… and /v1/payment-status-reports. */
export const paymentOrderRoutes: RouteModule = async (app, services) => {
  const orders = services.paymentOrders;
  if (orders === undefined) return;
  const actorOf = (request: { identity: { identityId: string } | null }) =>
    request.identity?.identityId ?? 'anonymous';
  const correlation = (request: { correlationId?: string }) => request.correlationId || undefined;
  // The statement routes register a raw parser for XML; without them this module brings its own.
  for (const type of ['application/xml', 'text/xml']) {
    if (!app.hasContentTypeParser(type))
      app.addContentTypeParser(
        type,
        { parseAs: 'buffer', bodyLimit: 50 * 1024 * 1024 },
        (_request, body, done) => done(null, body),
      );
  }

  app.post(
    '/v1/payment-orders',
    {
      config: { scope: 'payment-orders:write' },
      schema: {
        tags: ['payment-orders'],
        summary: 'Propose a payment order from the open vendor bills of a bank account’s legal entity',
        body: z.object({ bankAccountId: z.string().min(1), dueBy: date, executionDate: date.optional() }),
      },
    },
    async (request, reply) => {
      const result = await orders.propose({
        ...request.body,
        actor: actorOf(request),
        correlationId: correlation(request),
      });
      return reply.status(201).send(result);
    },
  );

  app.get(
    '/v1/payment-orders',
    {
      config: { scope: 'payment-orders:read' },
      schema: {
        tags: ['payment-orders'],
        summary: 'List payment orders, newest first',
        querystring: z.object({
          state: z.enum(paymentOrderStates).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
        }),
      },
    },
    async (request) => ({ data: await orders.list(request.query) }),
  );

  app.get(
    '/v1/payment-orders/:id',
    {
      config: { scope: 'payment-orders:read' },
      schema: { tags: ['payment-orders'], summary: 'One payment order in full', params },
    },
    async (request) => orders.get(request.params.id),
  );

  app.get(
    '/v1/payment-orders/:id/policy',
    {
      config: { scope: 'payment-orders:read' },
      schema: {
        tags: ['payment-orders'],
        summary: 'Which approval rules fire for the order, why, and where its approvals stand',
        params,
      },
    },
    async (request) => orders.explain(request.params.id),
  );

  app.post(
    '/v1/payment-orders/:id/submit',
    {
      config: { scope: 'payment-orders:write' },
      schema: { tags: ['payment-orders'], summary: 'Send a draft order for approval', params },
    },
    async (request) =>
      orders.submit({
        orderId: request.params.id,
        actor: actorOf(request),
        correlationId: correlation(request),
      }),
  );

  app.post(
    '/v1/payment-orders/:id/approve',
    {
      config: { scope: 'payment-orders:approve' },
      schema: {
        tags: ['payment-orders'],
        summary:
          'Approve an order (segregation of duties: not the creator, distinct humans, no admin bypass)',
        params,
      },
    },
    async (request) => {
      const who = request.identity;
      if (who === null) throw new ValidationError('approving needs an authenticated identity');
      return orders.approve({
        orderId: request.params.id,
        approver: { id: who.identityId, kind: who.kind, roles: who.roles },
        correlationId: correlation(request),
      });
    },
  );

  app.post(
    '/v1/payment-orders/:id/release',
    {
      config: { scope: 'payment-orders:write' },
      schema: {
        tags: ['payment-orders'],
        summary: 'Write the approved order’s pain.001 to the bank channel, exactly once',
        params,
      },
    },
    async (request) =>
      orders.release({
        orderId: request.params.id,
        actor: actorOf(request),
        correlationId: correlation(request),
      }),
  );

  app.post(
    '/v1/payment-orders/:id/cancel',
    {
      config: { scope: 'payment-orders:write' },
      schema: {
        tags: ['payment-orders'],
        summary: 'Cancel an order before it is sent; its bills are free for the next run',
        params,
        body: z.object({ reason: z.string().max(500).optional() }).optional(),
      },
    },
    async (request) =>
      orders.cancel({
        orderId: request.params.id,
        actor: actorOf(request),
        reason: request.body?.reason,
        correlationId: correlation(request),
      }),
  );

  app.get(
    '/v1/payment-orders/:id/file',
    {
      config: { scope: 'payment-orders:read' },
      schema: { tags: ['payment-orders'], summary: 'Download the released pain.001', params },
    },
    async (request, reply) => {
      const file = await orders.file(request.params.id);
      if (file === undefined)
        throw new NotFoundError(`payment order ${request.params.id} has no released file yet`);
      return reply
        .header('content-type', 'application/xml; charset=utf-8')
        .header('content-disposition', `attachment; filename="${file.fileName}"`)
        .header('x-content-sha256', file.sha256)
        .send(file.xml);
    },
  );

  // pain.002 arrives as raw XML; statements.ts registers the raw parser for application/xml on the same app.
  app.post(
    '/v1/payment-status-reports',
    {
      config: { scope: 'payments:write' },
      schema: { tags: ['payment-orders'], summary: 'Apply a pain.002 status report (raw XML body)' },
    },
    async (request) => {
      const body = request.body;
      const xml = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : undefined;
      if (xml === undefined)
        throw new ValidationError('send the pain.002 as the raw body with Content-Type application/xml');
      return orders.applyStatusReport({ xml, actor: actorOf(request), correlationId: correlation(request) });
    },
  );
};

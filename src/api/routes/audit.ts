/** GET /v1/audit: the audit log, filtered, in seq order with cursor pagination (audit:read). */
import { z } from 'zod';
import { auditRecordToJson, listAuditRecords } from '../../audit/index.ts';
import type { RouteModule } from './types.ts';

const recordDto = z.object({
  seq: z.string(),
  time: z.string(),
  actor: z.string(),
  action: z.string(),
  resourceType: z.string(),
  resourceId: z.string().nullable(),
  beforeDigest: z.string().nullable(),
  afterDigest: z.string().nullable(),
  correlationId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  prevHash: z.string(),
  hash: z.string(),
});

/** GET /v1/audit. */
export const auditRoutes: RouteModule = async (app, services) => {
  app.get(
    '/v1/audit',
    {
      config: { scope: 'audit:read' },
      schema: {
        tags: ['audit'],
        summary: 'Audit records, oldest first; pass nextCursor as cursor for the next page',
        security: [{ apiKey: [] }],
        querystring: z.strictObject({
          actor: z.string().min(1).optional(),
          action: z.string().min(1).optional(),
          resourceType: z.string().min(1).optional(),
          resourceId: z.string().min(1).optional(),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
          cursor: z
            .string()
            .regex(/^\d{1,19}$/, 'a cursor from a previous page')
            .optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: z.object({ data: z.array(recordDto), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await listAuditRecords(services.db, {
        actor: q.actor,
        action: q.action,
        resourceType: q.resourceType,
        resourceId: q.resourceId,
        from: q.from === undefined ? undefined : new Date(q.from),
        to: q.to === undefined ? undefined : new Date(q.to),
        afterSeq: q.cursor === undefined ? undefined : BigInt(q.cursor),
        limit: q.limit,
      });
      return {
        data: page.records.map((r) => auditRecordToJson(r) as z.infer<typeof recordDto>),
        nextCursor: page.nextAfterSeq?.toString() ?? null,
      };
    },
  );
};

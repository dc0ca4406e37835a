/** Liveness, readiness and the OpenAPI document. */
import { z } from 'zod';
import { migrationStatus } from '../../store/index.ts';
import type { RouteModule } from './types.ts';

const checkResult = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() });

/** GET /healthz, /readyz and /openapi.json. */
export const healthRoutes: RouteModule = async (app, services) => {
  app.get(
    '/healthz',
    {
      config: { scope: 'public' },
      schema: {
        tags: ['health'],
        summary: 'The process is up',
        response: { 200: z.object({ status: z.literal('ok'), version: z.string() }) },
      },
    },
    async () => ({ status: 'ok' as const, version: services.version }),
  );

  app.get(
    '/readyz',
    {
      config: { scope: 'public' },
      schema: {
        tags: ['health'],
        summary: 'The store is reachable, its schema is current, and every dependency check passes',
        response: {
          200: z.object({ status: z.literal('ready'), checks: z.array(checkResult) }),
          503: z.object({ status: z.literal('not_ready'), checks: z.array(checkResult) }),
        },
      },
    },
    async (_request, reply) => {
      const checks: z.infer<typeof checkResult>[] = [];
      try {
        const status = await migrationStatus(services.db);
        checks.push(
          status.pending.length === 0
            ? {
                name: 'store',
                ok: true,
                detail: `${services.db.kind}, schema version ${status.databaseVersion}`,
              }
            : { name: 'store', ok: false, detail: `${status.pending.length} migration(s) pending` },
        );
      } catch (e) {
        checks.push({ name: 'store', ok: false, detail: (e as Error).message });
      }
      for (const c of services.readiness) {
        try {
          const r = await c.check();
          checks.push({ name: c.name, ok: r.ok, ...(r.detail === undefined ? {} : { detail: r.detail }) });
        } catch (e) {
          checks.push({ name: c.name, ok: false, detail: (e as Error).message });
        }
      }
      const ready = checks.every((c) => c.ok);
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );

  app.get('/openapi.json', { config: { scope: 'public' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
};

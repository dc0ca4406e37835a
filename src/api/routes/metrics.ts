/**
 * GET /metrics in Prometheus text format. It needs `config:read`: metrics reveal traffic and
 * volumes, so a scraper gets its own service identity (ADR 0007).
 */
import { readAuditHead } from '../../audit/index.ts';
import { auditRecordsGauge, getMetricsRegistry } from '../../observability/index.ts';
import type { RouteModule } from './types.ts';

/** GET /metrics. */
export const metricsRoutes: RouteModule = async (app, services) => {
  app.get(
    '/metrics',
    {
      config: { scope: 'config:read' },
      schema: { tags: ['observability'], summary: 'Prometheus metrics', hide: true },
    },
    async (_request, reply) => {
      try {
        auditRecordsGauge().set(Number((await readAuditHead(services.db)).seq));
      } catch (e) {
        // A store hiccup must not hide every other metric.
        app.log.warn({ err: e }, 'reading the audit head for /metrics failed');
      }
      const registry = getMetricsRegistry();
      return reply.header('content-type', registry.contentType).send(await registry.metrics());
    },
  );
};

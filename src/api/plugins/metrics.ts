/** HTTP metrics: a latency histogram and a response counter per method, route pattern and status. */
import { httpRequestDuration, httpRequestsTotal } from '../../observability/index.ts';
import type { App } from '../routes/types.ts';

/** Adds the onResponse hook that records every request. */
export function installHttpMetrics(app: App): void {
  const duration = httpRequestDuration();
  const total = httpRequestsTotal();
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: ids in paths would explode the label set.
    const labels = {
      method: request.method,
      route: request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched'),
      status_code: String(reply.statusCode),
    };
    duration.observe(labels, reply.elapsedTime / 1000);
    total.inc(labels);
  });
}

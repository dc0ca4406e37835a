/**
 * Correlation: every request gets a correlation id (the caller's X-Correlation-Id, or a new one)
 * and a W3C traceparent continuing the caller's trace; both are echoed in the response, bound
 * to the request logger, and reachable from deeper code through `currentCorrelation()`.
 */
import {
  acceptCorrelationId,
  continueTraceparent,
  runWithCorrelation,
  type CorrelationContext,
} from '../../observability/index.ts';
import type { App } from '../routes/types.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The correlation id of this request (also in the X-Correlation-Id response header). */
    correlationId: string;
    /** This request's W3C traceparent. */
    traceparent: string;
    /** The correlation context shared with AsyncLocalStorage. */
    correlation: CorrelationContext;
  }
}

/** Adds the correlation hooks; call before any other hook. */
export function installCorrelation(app: App): void {
  app.decorateRequest('correlationId', '');
  app.decorateRequest('traceparent', '');
  app.decorateRequest('correlation', null as unknown as CorrelationContext);
  app.addHook('onRequest', (request, reply, done) => {
    const context: CorrelationContext = {
      correlationId: acceptCorrelationId(request.headers['x-correlation-id']),
      traceparent: continueTraceparent(request.headers.traceparent),
    };
    request.correlation = context;
    request.correlationId = context.correlationId;
    request.traceparent = context.traceparent;
    request.log = request.log.child({ correlationId: context.correlationId });
    // Fastify's own "request completed" line is written through reply.log.
    reply.log = request.log;
    void reply.header('x-correlation-id', context.correlationId);
    void reply.header('traceparent', context.traceparent);
    runWithCorrelation(context, done);
  });
  // Body parsing runs in the socket's async context; re-enter ours before validation and handlers.
  app.addHook('preValidation', (request, _reply, done) => {
    runWithCorrelation(request.correlation, done);
  });
}

/**
 * The HTTP server: Fastify with zod schemas on every route, an OpenAPI 3.1 document generated
 * from them, request ids, and one error body shape.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { ErrorCodes } from '../domain/index.ts';
import type { ApiServices } from './deps.ts';
import { errorBody, handleError } from './errors.ts';
import { installAuth } from './plugins/auth.ts';
import { installCorrelation } from './plugins/correlation.ts';
import { installIdempotency } from './plugins/idempotency.ts';
import { installHttpMetrics } from './plugins/metrics.ts';
import { addRateLimitHook } from './plugins/rate-limit.ts';
import './route-config.ts';
import { routeModules } from './routes/index.ts';
import type { App, RouteModule } from './routes/types.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface BuildServerOptions {
  /** Route modules to register; default: all of them. */
  modules?: RouteModule[];
}

/** Builds the app (not yet listening); `inject()` drives it in tests. */
export async function buildServer(services: ApiServices, options: BuildServerOptions = {}): Promise<App> {
  // Typed as Fastify's base logger so the app's type does not depend on pino's.
  const loggerInstance: FastifyBaseLogger = services.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: services.config.server.bodyLimitBytes,
    // Honour a caller's request id so one id follows a call across systems; otherwise make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(
        errorBody(
          'not_found_error',
          ErrorCodes.NOT_FOUND,
          `no route ${request.method} ${request.url.split('?')[0]}`,
        ),
      ),
  );
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  // The security edge, in hook order: correlation, rate limit per credential, authentication
  // and scope, rate limit per identity, then idempotency once the body is validated. All before
  // any route is added, so the onRoute checks see every route.
  installCorrelation(app);
  addRateLimitHook(app, 'credential', services.security?.rateLimit);
  installAuth(app, services.security);
  addRateLimitHook(app, 'identity', services.security?.rateLimit);
  installIdempotency(app, services.db, services.security?.idempotencyRetentionMs);
  installHttpMetrics(app);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kontor API',
        version: services.version,
        description:
          'Finance-integration hub for Odoo: statements, reconciliation, payments, events and audit.',
      },
      servers: [],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key or a JWT from /oauth/token' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  for (const register of options.modules ?? routeModules) {
    await register(app, services);
  }
  await app.ready();
  return app;
}

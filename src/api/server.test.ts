import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { ConflictError, parseMoney } from '../domain/index.ts';
import { parseConfig } from '../config/index.ts';
import { createLogger } from '../observability/index.ts';
import type { Db } from '../store/index.ts';
import { healthRoutes } from './routes/health.ts';
import { buildServer, type App, type RouteModule } from './index.ts';

const fakeDb: Db = {
  kind: 'pglite',
  description: 'fake',
  query: async <R>() => ({ rows: [{ t: null }] as R[], rowCount: 1 }),
  exec: async () => undefined,
  transaction: async (fn) =>
    fn({
      query: async <R>() => ({ rows: [] as R[], rowCount: 0 }),
      exec: async () => undefined,
      afterCommit: () => undefined,
    }),
  listen: async () => async () => undefined,
  close: async () => undefined,
};

const probeRoutes: RouteModule = async (app) => {
  app.post(
    '/v1/probe',
    {
      config: { scope: 'public' },
      schema: {
        body: z.object({ lines: z.array(z.object({ amount: z.string(), currency: z.string().length(3) })) }),
        response: { 200: z.object({ total: z.string() }) },
      },
    },
    async (request) => ({
      total: request.body.lines
        .map((l) => parseMoney(l.amount, l.currency).amount)
        .reduce((a, b) => a + b, 0n)
        .toString(),
    }),
  );
  app.get('/v1/conflict', { config: { scope: 'public' } }, async () => {
    throw new ConflictError('payment order po_1 is already approved', { code: 'PAYMENT_ALREADY_APPROVED' });
  });
  app.get('/v1/crash', { config: { scope: 'public' } }, async () => {
    throw new Error('secret internals');
  });
};

describe('HTTP server', () => {
  let app: App;
  before(async () => {
    const config = parseConfig('server:\n  bodyLimitBytes: 1024\n');
    app = await buildServer(
      { db: fakeDb, config, logger: createLogger({ level: 'silent' }), version: '0.0.0-test', readiness: [] },
      { modules: [healthRoutes, probeRoutes] },
    );
  });
  after(async () => {
    await app.close();
  });

  it('answers 400 naming the field path of an invalid body', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/probe',
      payload: { lines: [{ amount: '1.00', currency: 'EURO' }] },
    });
    assert.equal(r.statusCode, 400);
    const body = r.json<{ error: { type: string; code: string; details: { issues: { path: string }[] } } }>();
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.code, 'VALIDATION_FAILED');
    assert.equal(body.error.details.issues[0]?.path, 'body.lines.0.currency');
  });

  it('maps domain errors from handlers: bad money is 400, a conflict 409', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/probe',
      payload: { lines: [{ amount: '1.001', currency: 'EUR' }] },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ error: { code: string } }>().error.code, 'INVALID_MONEY');
    const conflict = await app.inject({ method: 'GET', url: '/v1/conflict' });
    assert.equal(conflict.statusCode, 409);
    assert.deepEqual(conflict.json(), {
      error: {
        type: 'conflict_error',
        code: 'PAYMENT_ALREADY_APPROVED',
        message: 'payment order po_1 is already approved',
      },
    });
  });

  it('answers malformed JSON with 400 and an oversized body with 413', async () => {
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/probe',
      headers: { 'content-type': 'application/json' },
      payload: '{"lines": [',
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json<{ error: { code: string } }>().error.code, 'VALIDATION_FAILED');
    const big = await app.inject({
      method: 'POST',
      url: '/v1/probe',
      payload: { lines: [{ amount: '1'.repeat(2000), currency: 'EUR' }] },
    });
    assert.equal(big.statusCode, 413);
    assert.equal(big.json<{ error: { code: string } }>().error.code, 'PAYLOAD_TOO_LARGE');
  });

  it('hides internals of unexpected errors', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1/crash' });
    assert.equal(r.statusCode, 500);
    assert.doesNotMatch(r.body, /secret internals/);
  });

  it('echoes a sane caller request id and makes one otherwise', async () => {
    const given = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'req-123' },
    });
    assert.equal(given.headers['x-request-id'], 'req-123');
    const hostile = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'a b\nc' },
    });
    assert.match(String(hostile.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('generates OpenAPI 3.1 from the route schemas', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    }>();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/v1/probe']?.post?.requestBody, 'the body schema is in the document');
    assert.equal(doc.paths['/openapi.json'], undefined, 'the document itself is hidden');
  });

  it('reports not ready while migrations are pending', async () => {
    const r = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json<{ status: string }>().status, 'not_ready');
  });
});

// Every route declares its scope, and every non-public route refuses an unauthenticated caller;
// correlation ids and trace context are accepted, generated and echoed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { buildServer, type App, type RouteModule } from '../src/api/index.ts';
import { purgeIdempotencyKeys } from '../src/api/plugins/idempotency.ts';
import { routeModules } from '../src/api/routes/index.ts';
import { DEMO_CONFIG, parseConfig } from '../src/config/index.ts';
import { IdentityService, TokenService } from '../src/identity/index.ts';
import { createLogger, currentCorrelationId } from '../src/observability/index.ts';
import { createTestDb, type TestDb } from './support/db.ts';
import { bearer, JWT_SECRET, PEPPER } from './security-harness.ts';

const PUBLIC_ROUTES = new Set(['/healthz', '/readyz', '/openapi.json', '/oauth/token']);

describe('route scopes', () => {
  let test: TestDb;
  let app: App;
  let identities: IdentityService;
  const routes: { method: string; url: string; scope: string | undefined }[] = [];

  const collect: RouteModule = async (a) => {
    a.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) routes.push({ method, url: r.url, scope: r.config?.scope });
    });
  };
  let release: () => void = () => undefined;
  const probe: RouteModule = async (a) => {
    a.post(
      '/v1/test/slow',
      { config: { scope: 'config:read' }, schema: { hide: true, body: z.object({ n: z.number() }) } },
      async (request) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { n: request.body.n };
      },
    );
    a.get(
      '/v1/test/correlation',
      { config: { scope: 'config:read' }, schema: { hide: true } },
      async (request) => {
        await new Promise((r) => setTimeout(r, 5));
        return { fromRequest: request.correlationId, fromStorage: currentCorrelationId() ?? null };
      },
    );
    a.post(
      '/v1/test/echo',
      { config: { scope: 'config:read' }, schema: { hide: true, body: z.object({ n: z.number() }) } },
      async (request) => ({
        fromStorage: currentCorrelationId() ?? null,
        n: request.body.n,
      }),
    );
  };

  before(async () => {
    test = await createTestDb('pglite');
    identities = new IdentityService(test.db, PEPPER);
    const services = {
      db: test.db,
      config: parseConfig(DEMO_CONFIG),
      logger: createLogger({ level: 'silent' }),
      version: 'test',
      readiness: [],
      security: { identities, tokens: new TokenService(identities, JWT_SECRET) },
      // Capabilities register routes only when their services exist: a stub makes every route
      // appear (its handlers never run, authentication answers first).
      statements: new Proxy(
        { maxBytes: 1024 },
        { get: (target, p) => (p in target ? target[p as 'maxBytes'] : async () => undefined) },
      ) as never,
    };
    app = await buildServer(services, { modules: [collect, ...routeModules, probe] });
  });
  after(async () => {
    await app.close();
    await test.drop();
  });

  it('finds every route with a declared scope', () => {
    assert.ok(routes.length >= 8, JSON.stringify(routes));
    assert.ok(
      routes.some((r) => r.url.startsWith('/v1/statements')),
      'capability routes are enumerated too',
    );
    for (const r of routes) assert.ok(r.scope !== undefined, `${r.method} ${r.url} has no scope`);
  });

  it('answers 401 without authentication on every route but health, OpenAPI and the token endpoint', async () => {
    for (const r of routes) {
      const url = r.url.replace(/:(\w+)/g, 'x');
      const response = await app.inject({
        method: r.method as 'GET',
        url,
        ...(r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH' ? { payload: {} } : {}),
      });
      if (PUBLIC_ROUTES.has(r.url)) {
        assert.equal(r.scope, 'public', r.url);
        if (r.url === '/oauth/token')
          assert.equal(response.statusCode, 401, 'the token endpoint needs client credentials');
        continue;
      }
      assert.notEqual(r.scope, 'public', `${r.url} is public but not on the allow-list`);
      assert.equal(
        response.statusCode,
        401,
        `${r.method} ${r.url} answered ${response.statusCode} without authentication`,
      );
    }
  });

  it('refuses to start with a route that declares no scope or an unknown one', async () => {
    const services = {
      db: test.db,
      config: parseConfig(DEMO_CONFIG),
      logger: createLogger({ level: 'silent' }),
      version: 'test',
      readiness: [],
    };
    const undeclared: RouteModule = async (a) => {
      a.get('/v1/naked', async () => 'hi');
    };
    await assert.rejects(buildServer(services, { modules: [undeclared] }), /declares no config.scope/);
    const unknown: RouteModule = async (a) => {
      a.get('/v1/odd', { config: { scope: 'planets:read' } }, async () => 'hi');
    };
    await assert.rejects(buildServer(services, { modules: [unknown] }), /unknown scope/);
  });

  it('echoes a caller correlation id, continues its trace and exposes the id to handlers', async () => {
    const { key } = await identities.create({
      name: 'probe',
      kind: 'service',
      scopes: ['config:read'],
      actor: 'test',
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await app.inject({
      method: 'GET',
      url: '/v1/test/correlation',
      headers: {
        ...bearer(key.apiKey),
        'x-correlation-id': 'corr-123',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
    });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['x-correlation-id'], 'corr-123');
    assert.match(String(r.headers.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    assert.doesNotMatch(String(r.headers.traceparent), /00f067aa0ba902b7/);
    assert.deepEqual(r.json(), { fromRequest: 'corr-123', fromStorage: 'corr-123' });

    const posted = await app.inject({
      method: 'POST',
      url: '/v1/test/echo',
      headers: { ...bearer(key.apiKey), 'x-correlation-id': 'corr-post' },
      payload: { n: 1 },
    });
    assert.deepEqual(posted.json(), { fromStorage: 'corr-post', n: 1 });

    const generated = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-correlation-id': 'bad id with spaces', traceparent: 'garbage' },
    });
    assert.match(String(generated.headers['x-correlation-id']), /^[0-9a-f-]{36}$/);
    assert.match(String(generated.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('serves Prometheus metrics to config:read only', async () => {
    const { key } = await identities.create({
      name: 'scraper',
      kind: 'service',
      scopes: ['config:read'],
      actor: 'test',
    });
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    const r = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(key.apiKey) });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /text\/plain/);
    assert.match(r.body, /kontor_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/test\/correlation"/);
    assert.match(r.body, /kontor_http_requests_total\{[^}]*status_code="401"/);
    assert.match(r.body, /kontor_audit_records [1-9]/);
    assert.match(r.body, /kontor_audit_records_written_total [1-9]/);
  });

  it('answers 409 to a duplicate Idempotency-Key while the first request runs, then replays it; purges keys after 24 h', async () => {
    const { key } = await identities.create({
      name: 'slow-client',
      kind: 'service',
      scopes: ['config:read'],
      actor: 'test',
    });
    const headers = { ...bearer(key.apiKey), 'idempotency-key': 'slow-1' };
    const first = app.inject({ method: 'POST', url: '/v1/test/slow', headers, payload: { n: 7 } });
    // Wait until the first request holds the key (its handler is parked on the latch).
    for (let i = 0; i < 200; i++) {
      const r = await test.db.query(`SELECT 1 FROM kontor_idempotency_keys WHERE key = 'slow-1'`);
      if (r.rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const duplicate = await app.inject({ method: 'POST', url: '/v1/test/slow', headers, payload: { n: 7 } });
    assert.equal(duplicate.statusCode, 409);
    assert.equal(duplicate.json<{ error: { code: string } }>().error.code, 'CONFLICT');
    release();
    assert.equal((await first).statusCode, 200);
    const replay = await app.inject({ method: 'POST', url: '/v1/test/slow', headers, payload: { n: 7 } });
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(replay.json(), { n: 7 });

    assert.equal(
      await purgeIdempotencyKeys(test.db, 0, new Date(Date.now() + 23 * 3_600_000)),
      0,
      'kept for at least 24 h even when asked for less',
    );
    assert.ok(
      (await purgeIdempotencyKeys(test.db, 24 * 3_600_000, new Date(Date.now() + 25 * 3_600_000))) >= 1,
    );
  });
});

// The event routes mount with valid schemas, appear in the OpenAPI document with their scopes, and
// refuse callers without credentials (auth itself is tested with the security plugin).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildServer, type App } from '../src/api/index.ts';
import { eventRoutes } from '../src/api/routes/events.ts';
import { healthRoutes } from '../src/api/routes/health.ts';
import { parseConfig } from '../src/config/index.ts';
import { createLogger } from '../src/observability/index.ts';
import { createTestDb, type TestDb } from './support/db.ts';

describe('event routes', () => {
  let t: TestDb;
  let app: App;
  before(async () => {
    t = await createTestDb('pglite');
    app = await buildServer(
      {
        db: t.db,
        config: parseConfig(''),
        logger: createLogger({ level: 'silent' }),
        version: '0.0.0-test',
        readiness: [],
      },
      { modules: [healthRoutes, eventRoutes] },
    );
  });
  after(async () => {
    await app.close();
    await t.drop();
  });

  it('documents the event routes in OpenAPI', async () => {
    const r = await app.inject({ method: 'GET', url: '/openapi.json' });
    const paths = Object.keys(r.json<{ paths: Record<string, unknown> }>().paths);
    for (const p of [
      '/v1/event-types',
      '/v1/events',
      '/v1/dead-letters',
      '/v1/dead-letters/{id}',
      '/v1/dead-letters/{id}/replay',
    ]) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    }
  });

  it('declares a scope on every event route and refuses anonymous callers', async () => {
    for (const [method, url] of [
      ['GET', '/v1/event-types'],
      ['GET', '/v1/events?correlationid=x'],
      ['GET', '/v1/dead-letters'],
      ['POST', '/v1/dead-letters/1/replay'],
    ] as const) {
      const r = await app.inject({ method, url });
      assert.equal(r.statusCode, 401, `${method} ${url}: ${r.body}`);
    }
  });
});

// The hub as a user runs it: the real binary, its URL, health, shutdown, persistence and the
// exit codes for what an operator must fix.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openPglite } from '../src/store/index.ts';
import { createPostgresDatabase } from './support/db.ts';
import { runKontor, spawnKontor, waitForUrl } from './support/process.ts';

describe('kontor start on the embedded defaults', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-hub-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    KONTOR_DATA_DIR: join(dir, 'data'),
    KONTOR_PORT: '0',
    KONTOR_CONFIG: undefined,
    KONTOR_DATABASE_URL: undefined,
  });

  it('serves health, readiness and OpenAPI, refuses a second process, and exits 0 on SIGTERM', async () => {
    const hub = spawnKontor(['start'], env(), dir);
    try {
      const url = await waitForUrl(hub);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

      const health = await fetch(`${url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { status: string }).status, 'ok');

      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 200);
      const readyBody = (await ready.json()) as { checks: { name: string; ok: boolean }[] };
      assert.ok(readyBody.checks.some((c) => c.name === 'store' && c.ok));

      const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      assert.equal(openapi.openapi, '3.1.0');
      assert.ok('/healthz' in openapi.paths);

      const missing = await fetch(`${url}/v1/nothing-here`);
      assert.equal(missing.status, 404);
      assert.deepEqual(Object.keys(((await missing.json()) as { error: object }).error).sort(), [
        'code',
        'message',
        'type',
      ]);

      const second = await runKontor(['start'], env(), dir);
      assert.equal(second.code, 2);
      assert.match(second.stderr, /in use by another Kontor process/);
    } finally {
      hub.child.kill('SIGTERM');
    }
    assert.equal(await hub.exited, 0);
  });

  it('keeps its state across a restart and after kill -9', async () => {
    const killed = spawnKontor(['start'], env(), dir);
    await waitForUrl(killed);
    killed.child.kill('SIGKILL');
    await killed.exited;

    const restarted = spawnKontor(['start'], env(), dir);
    await waitForUrl(restarted);
    restarted.child.kill('SIGTERM');
    assert.equal(await restarted.exited, 0);

    const db = await openPglite({ dataDir: join(dir, 'data') });
    try {
      const r = await db.query<{ started_count: bigint }>('SELECT started_count FROM kontor_instance');
      assert.equal(r.rows[0]?.started_count, 3n, 'three starts recorded in one instance');
    } finally {
      await db.close();
    }
  });
});

describe('kontor start on PostgreSQL', () => {
  it('migrates a fresh database and reports ready', async () => {
    const pg = await createPostgresDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'kontor-hub-pg-'));
    try {
      const hub = spawnKontor(
        ['start'],
        { KONTOR_DATABASE_URL: pg.url, KONTOR_PORT: '0', KONTOR_DATA_DIR: join(dir, 'data') },
        dir,
      );
      try {
        const url = await waitForUrl(hub);
        const ready = (await (await fetch(`${url}/readyz`)).json()) as {
          status: string;
          checks: { detail?: string }[];
        };
        assert.equal(ready.status, 'ready');
        assert.match(ready.checks[0]?.detail ?? '', /postgres/);
      } finally {
        hub.child.kill('SIGTERM');
      }
      assert.equal(await hub.exited, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await pg.drop();
    }
  });
});

describe('exit code 2 for what the operator must fix', () => {
  it('names the key and line of a bad configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kontor-badcfg-'));
    try {
      const file = join(dir, 'kontor.yaml');
      writeFileSync(
        file,
        'entities:\n  - id: acme\n    name: ACME\n    country: Germany\n    baseCurrency: EUR\n',
      );
      const r = await runKontor(['start', '--config', file], { KONTOR_PORT: '0' }, dir);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /line 4: entities\.0\.country: expected an ISO 3166 alpha-2 code/);

      const check = await runKontor(['config', 'check', file], {}, dir);
      assert.equal(check.code, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains a bad or unreachable database URL', async () => {
    const wrongScheme = await runKontor(['migrate'], {
      KONTOR_DATABASE_URL: 'mysql://root@localhost/db',
      KONTOR_CONFIG: undefined,
    });
    assert.equal(wrongScheme.code, 2);
    assert.match(wrongScheme.stderr, /must start with postgres:\/\//);

    const unreachable = await runKontor(['migrate'], {
      KONTOR_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      KONTOR_CONFIG: undefined,
    });
    assert.equal(unreachable.code, 2);
    assert.match(
      unreachable.stderr,
      /cannot connect to PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1:1\/none/,
    );
  });

  it('prints help and the version', async () => {
    const help = await runKontor(['--help']);
    assert.equal(help.code, 0);
    for (const cmd of ['start', 'migrate', 'config', 'version'])
      assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
    const version = await runKontor(['version']);
    assert.match(version.stdout, /^kontor \d+\.\d+\.\d+/);
  });
});

// The operator's path: `kontor identity` and `kontor audit` against the embedded store, and a
// key made by the CLI working against the running hub (same generated pepper).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openPglite } from '../src/store/index.ts';
import { runKontor, spawnKontor, waitForUrl } from './support/process.ts';

describe('kontor identity and kontor audit', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-sec-cli-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const env = () => ({
    KONTOR_DATA_DIR: join(dir, 'data'),
    KONTOR_PORT: '0',
    KONTOR_CONFIG: undefined,
    KONTOR_DATABASE_URL: undefined,
    KONTOR_API_KEY_PEPPER: undefined,
    KONTOR_JWT_SECRET: undefined,
    KONTOR_AUDIT_SIGNING_KEY: undefined,
  });

  it('creates, lists, rotates and revokes identities, prints keys once, and verifies and exports the audit chain', async () => {
    const created = await runKontor(
      [
        'identity',
        'create',
        '--name',
        'bank-adapter',
        '--kind',
        'service',
        '--scopes',
        'identities:read,audit:read',
        '--expires-in',
        '30d',
      ],
      env(),
      dir,
    );
    assert.equal(created.code, 0, created.stderr);
    const key = /^(kontor_\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(key !== undefined, created.stdout);
    assert.match(created.stderr, /generated/, 'the generated secrets are announced');
    assert.ok(!created.stderr.includes(key));
    const secretsFile = join(dir, 'data', 'secrets.generated.env');
    assert.equal(statSync(secretsFile).mode & 0o777, 0o600);
    assert.match(readFileSync(secretsFile, 'utf8'), /KONTOR_AUDIT_SIGNING_KEY=/);

    const bad = await runKontor(
      ['identity', 'create', '--name', 'x', '--kind', 'robot', '--scopes', 'audit:read'],
      env(),
      dir,
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--kind must be service or human/);

    // The hub accepts the key the CLI made.
    const hub = spawnKontor(['start'], env(), dir);
    try {
      const url = await waitForUrl(hub);
      const r = await fetch(`${url}/v1/identities`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(r.status, 200);
      assert.equal((await fetch(`${url}/v1/identities`)).status, 401);
      assert.ok(!(hub.stdout() + hub.stderr()).includes(key), 'the key never reaches the hub log');
    } finally {
      hub.child.kill('SIGTERM');
    }
    assert.equal(await hub.exited, 0);

    const rotated = await runKontor(['identity', 'rotate', 'bank-adapter', '--overlap', '1h'], env(), dir);
    assert.equal(rotated.code, 0, rotated.stderr);
    const listed = await runKontor(['identity', 'list', '--json'], env(), dir);
    const identities = JSON.parse(listed.stdout) as {
      name: string;
      keys: { id: string; status: string }[];
    }[];
    assert.equal(identities[0]!.keys.length, 2);
    assert.ok(
      identities[0]!.keys.every((k) => k.status === 'valid'),
      'both keys are valid during the overlap',
    );
    assert.ok(!listed.stdout.includes(key));

    const revoked = await runKontor(['identity', 'revoke', 'bank-adapter'], env(), dir);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked \(2 key\(s\)\)/);

    const verified = await runKontor(['audit', 'verify'], env(), dir);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /audit chain intact: 3 record\(s\), 1 signed checkpoint/);

    const exported = await runKontor(['audit', 'export', '--from', '2000-01-01'], env(), dir);
    assert.equal(exported.code, 0, exported.stderr);
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: string; action: string });
    assert.deepEqual(
      lines.map((l) => l.action),
      ['identity.created', 'identity.key-rotated', 'identity.revoked'],
    );

    // Tamper with record 2 as the database owner, bypassing the guard trigger.
    const db = await openPglite({ dataDir: join(dir, 'data') });
    try {
      await db.exec(`ALTER TABLE kontor_audit DISABLE TRIGGER kontor_audit_append_only;
        UPDATE kontor_audit SET details = '{"newKeyId":"key_forged"}' WHERE seq = 2;
        ALTER TABLE kontor_audit ENABLE TRIGGER kontor_audit_append_only;`);
    } finally {
      await db.close();
    }
    const broken = await runKontor(['audit', 'verify'], env(), dir);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /BROKEN at record 2 \(hash-mismatch\)/);
  });
});

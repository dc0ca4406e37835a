// The audit log: chained, append-only in the database, safe under concurrent writers, and a
// single changed row is named by `verify` exactly.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  createAuditCheckpoint,
  exportAuditRecords,
  generateAuditSigningKey,
  keyIdOf,
  parseAuditSigningKey,
  recordAudit,
  verifyAuditChain,
  computeRecordHash,
  type AuditRecord,
} from '../src/audit/index.ts';
import { runWithCorrelation } from '../src/observability/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { bearer, createSecureApp } from './security-harness.ts';

for (const backend of backends) {
  describe(`audit chain (${backend})`, () => {
    let t: TestDb;
    const signer = parseAuditSigningKey(generateAuditSigningKey());
    const keys = new Map([[signer.keyId, signer.publicKey]]);

    before(async () => {
      t = await createTestDb(backend);
    });
    after(async () => {
      await t.drop();
    });

    const write = (i: number, extra: Partial<Parameters<typeof recordAudit>[1]> = {}) =>
      t.db.transaction((tx) =>
        recordAudit(tx, {
          actor: `user-${i % 3}`,
          action: 'payment-order.approved',
          resourceType: 'payment-order',
          resourceId: `po-${i}`,
          before: { status: 'pending', i },
          after: { status: 'approved', i },
          ...extra,
        }),
      );

    it('chains records, digests states and takes the correlation id of the current request', async () => {
      const first = await runWithCorrelation({ correlationId: 'corr-audit', traceparent: 'x' }, () =>
        write(1, { details: { amount: '12.50', currency: 'EUR' } }),
      );
      assert.equal(first.seq, 1n);
      assert.equal(first.prevHash, '0'.repeat(64));
      assert.equal(first.correlationId, 'corr-audit');
      assert.match(first.beforeDigest!, /^[0-9a-f]{64}$/);
      const second = await write(2);
      assert.equal(second.prevHash, first.hash);
      for (let i = 3; i <= 6; i++) await write(i);
      const result = await verifyAuditChain(t.db, { publicKeys: keys });
      assert.equal(
        result.ok,
        true,
        JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
      );
      assert.equal(result.records, 6);
    });

    it('leaves no record and no gap when the caller rolls back', async () => {
      await assert.rejects(
        t.db.transaction(async (tx) => {
          await recordAudit(tx, { actor: 'x', action: 'y.z', resourceType: 'r' });
          throw new Error('business write failed');
        }),
        /business write failed/,
      );
      const next = await write(7);
      assert.equal(next.seq, 7n);
    });

    it('refuses UPDATE, DELETE and TRUNCATE in the database', async () => {
      await assert.rejects(
        t.db.query(`UPDATE kontor_audit SET actor = 'mallory' WHERE seq = 1`),
        /append-only/,
      );
      await assert.rejects(t.db.query('DELETE FROM kontor_audit WHERE seq = 1'), /append-only/);
      await assert.rejects(t.db.query('TRUNCATE kontor_audit'), /append-only/);
      await assert.rejects(t.db.query('TRUNCATE kontor_audit_checkpoints'), /append-only/);
    });

    it('keeps one unforked chain under 40 concurrent writers', async () => {
      await Promise.all(Array.from({ length: 40 }, (_, i) => write(100 + i)));
      const result = await verifyAuditChain(t.db, { batchSize: 7 });
      assert.equal(result.ok, true);
      assert.equal(result.records, 47);
    });

    it('signs checkpoints and verifies their signatures', async () => {
      const c = await createAuditCheckpoint(t.db, signer);
      assert.equal(c?.seq, 47n);
      assert.equal(
        await createAuditCheckpoint(t.db, signer),
        undefined,
        'an unchanged head is not signed twice',
      );
      assert.equal((await verifyAuditChain(t.db, { publicKeys: keys })).ok, true);
      const other = generateKeyPairSync('ed25519').publicKey;
      const wrong = await verifyAuditChain(t.db, { publicKeys: new Map([[signer.keyId, other]]) });
      assert.equal(wrong.ok, false);
      assert.match(wrong.checkpointProblems[0]!.message, /invalid signature/);
      const unknown = await verifyAuditChain(t.db, { publicKeys: new Map([[keyIdOf(other), other]]) });
      assert.match(unknown.checkpointProblems[0]!.message, /unknown key/);
    });

    it('exports a time range as JSON lines', async () => {
      const lines: string[] = [];
      const n = await exportAuditRecords(
        t.db,
        { from: new Date(Date.now() - 3_600_000) },
        (l) => void lines.push(l),
      );
      assert.equal(n, 47);
      const parsed = lines.map((l) => JSON.parse(l) as { seq: string; hash: string });
      assert.deepEqual(parsed.map((p) => p.seq).slice(0, 3), ['1', '2', '3']);
      assert.equal(
        await exportAuditRecords(t.db, { to: new Date(Date.now() - 3_600_000) }, () => undefined),
        0,
      );
    });

    it('names exactly the changed row when the owner bypasses the guard (tamper test)', async () => {
      await t.db.exec(`
        ALTER TABLE kontor_audit DISABLE TRIGGER kontor_audit_append_only;
        UPDATE kontor_audit SET actor = 'mallory' WHERE seq = 5;
        ALTER TABLE kontor_audit ENABLE TRIGGER kontor_audit_append_only;
      `);
      const result = await verifyAuditChain(t.db, { publicKeys: keys });
      assert.equal(result.ok, false);
      assert.equal(result.firstBreak?.seq, 5n);
      assert.equal(result.firstBreak?.reason, 'hash-mismatch');
      // Links use stored hashes, so record 47 (the checkpoint) still matches: only row 5 is reported.
      assert.equal(result.checkpointProblems.length, 0);
    });

    it('catches a re-chained forgery through the signed checkpoint', async () => {
      // An attacker who rewrites record 5 AND recomputes every later hash keeps the chain
      // consistent; only the signed checkpoint exposes it.
      const rows = await t.db.query<{ seq: bigint }>('SELECT seq FROM kontor_audit ORDER BY seq');
      await t.db.exec('ALTER TABLE kontor_audit DISABLE TRIGGER kontor_audit_append_only');
      let prev: string | undefined;
      for (const { seq } of rows.rows) {
        const r = (
          await t.db.query<Record<string, unknown>>('SELECT * FROM kontor_audit WHERE seq = $1', [
            seq.toString(),
          ])
        ).rows[0]!;
        const rec = {
          seq: BigInt(r.seq as bigint),
          time: r.time as Date,
          actor: r.actor as string,
          action: r.action as string,
          resourceType: r.resource_type as string,
          resourceId: r.resource_id as string | null,
          beforeDigest: r.before_digest as string | null,
          afterDigest: r.after_digest as string | null,
          correlationId: r.correlation_id as string | null,
          details: r.details as Record<string, unknown> | null,
          prevHash: prev ?? (r.prev_hash as string),
        } satisfies Omit<AuditRecord, 'hash'>;
        const hash = computeRecordHash(rec);
        await t.db.query('UPDATE kontor_audit SET prev_hash = $2, hash = $3 WHERE seq = $1', [
          seq.toString(),
          rec.prevHash,
          hash,
        ]);
        prev = hash;
      }
      await t.db.exec('ALTER TABLE kontor_audit ENABLE TRIGGER kontor_audit_append_only');
      await t.db.query('UPDATE kontor_audit_head SET hash = $1', [prev]);
      const result = await verifyAuditChain(t.db, { publicKeys: keys });
      assert.equal(result.firstBreak, undefined, 'the forged chain is internally consistent');
      assert.equal(result.ok, false);
      assert.match(result.checkpointProblems[0]!.message, /no longer matches the hash signed/);
    });
  });
}

describe('GET /v1/audit', () => {
  it('filters by actor, action, resource and time, and pages with a cursor', async () => {
    const s = await createSecureApp('pglite');
    try {
      const { key: auditor } = await s.identities.create({
        name: 'auditor',
        kind: 'human',
        scopes: ['audit:read'],
        actor: 'cli',
      });
      for (let i = 0; i < 5; i++)
        await s.identities.create({
          name: `svc-${i}`,
          kind: 'service',
          scopes: ['events:read'],
          actor: i % 2 === 0 ? 'alice' : 'bob',
        });
      const all = await s.app.inject({
        method: 'GET',
        url: '/v1/audit?limit=4',
        headers: bearer(auditor.apiKey),
      });
      assert.equal(all.statusCode, 200, all.body);
      const page1 = all.json<{ data: { seq: string; actor: string }[]; nextCursor: string | null }>();
      assert.equal(page1.data.length, 4);
      assert.ok(page1.nextCursor !== null);
      const page2 = (
        await s.app.inject({
          method: 'GET',
          url: `/v1/audit?limit=4&cursor=${page1.nextCursor}`,
          headers: bearer(auditor.apiKey),
        })
      ).json<typeof page1>();
      assert.deepEqual(
        page2.data.map((r) => r.seq),
        ['5', '6'],
      );
      assert.equal(page2.nextCursor, null);
      const alice = (
        await s.app.inject({
          method: 'GET',
          url: '/v1/audit?actor=alice&action=identity.created&resourceType=identity',
          headers: bearer(auditor.apiKey),
        })
      ).json<typeof page1>();
      assert.equal(alice.data.length, 3);
      const future = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
      const none = (
        await s.app.inject({
          method: 'GET',
          url: `/v1/audit?from=${future}`,
          headers: bearer(auditor.apiKey),
        })
      ).json<typeof page1>();
      assert.equal(none.data.length, 0);
    } finally {
      await s.close();
    }
  });
});

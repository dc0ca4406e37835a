// The attack script of issue 4: every hostile request is answered as specified, and none of
// them writes anything (rows are counted before and after).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { backends } from './support/db.ts';
import { bearer, countWrites, createSecureApp, JWT_SECRET, type SecureApp } from './security-harness.ts';

interface ErrorJson {
  error: { type: string; code: string; message: string; details?: Record<string, unknown> };
}

for (const backend of backends) {
  describe(`security edge under attack (${backend})`, () => {
    let s: SecureApp;
    let adminKey: string;
    let readerKey: string;

    before(async () => {
      s = await createSecureApp(backend, { rateLimitMax: 100 });
      adminKey = (
        await s.identities.create({
          name: 'ops-admin',
          kind: 'human',
          scopes: ['identities:admin', 'audit:read', 'config:read'],
          actor: 'test',
        })
      ).key.apiKey;
      readerKey = (
        await s.identities.create({
          name: 'reader',
          kind: 'service',
          scopes: ['identities:read'],
          actor: 'test',
        })
      ).key.apiKey;
    });
    after(async () => {
      await s.close();
    });

    const newIdentity = (name: string) => ({ name, kind: 'service', scopes: ['identities:read'] });

    async function assertNothingWritten(attack: () => Promise<void>): Promise<void> {
      const beforeCounts = await countWrites(s.db);
      await attack();
      assert.deepEqual(await countWrites(s.db), beforeCounts);
    }

    it('answers 401 to an unauthenticated request and writes nothing', async () => {
      await assertNothingWritten(async () => {
        const r = await s.app.inject({ method: 'POST', url: '/v1/identities', payload: newIdentity('x1') });
        assert.equal(r.statusCode, 401);
        const body = r.json<ErrorJson>();
        assert.equal(body.error.code, 'UNAUTHENTICATED');
        assert.equal(body.error.type, 'authentication_error');
        assert.equal((await s.app.inject({ method: 'GET', url: '/v1/identities' })).statusCode, 401);
        assert.equal(
          (
            await s.app.inject({
              method: 'GET',
              url: '/v1/identities',
              headers: bearer('kontor_not-a-real-key-0000000000000000000000'),
            })
          ).statusCode,
          401,
        );
      });
    });

    it('answers 403 to a valid key without the route scope', async () => {
      await assertNothingWritten(async () => {
        const r = await s.app.inject({
          method: 'POST',
          url: '/v1/identities',
          headers: bearer(readerKey),
          payload: newIdentity('x2'),
        });
        assert.equal(r.statusCode, 403);
        assert.equal(r.json<ErrorJson>().error.code, 'FORBIDDEN');
        assert.equal(
          (await s.app.inject({ method: 'GET', url: '/v1/audit', headers: bearer(readerKey) })).statusCode,
          403,
        );
        assert.equal(
          (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(readerKey) }))
            .statusCode,
          200,
        );
      });
    });

    it('refuses to grant scopes the caller does not hold', async () => {
      await assertNothingWritten(async () => {
        const r = await s.app.inject({
          method: 'POST',
          url: '/v1/identities',
          headers: bearer(adminKey),
          payload: { ...newIdentity('x3'), scopes: ['payments:approve'] },
        });
        assert.equal(r.statusCode, 403);
      });
    });

    it('answers 401 to an expired key', async () => {
      const { key } = await s.identities.create({
        name: 'short-lived',
        kind: 'service',
        scopes: ['identities:read'],
        expiresInMs: 3_600_000,
        actor: 'test',
      });
      assert.equal(
        (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(key.apiKey) }))
          .statusCode,
        200,
      );
      s.clock.advance(2 * 3_600_000);
      await assertNothingWritten(async () => {
        const r = await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(key.apiKey) });
        assert.equal(r.statusCode, 401);
        assert.equal(r.json<ErrorJson>().error.details?.reason, 'expired');
      });
    });

    it('answers 401 to a revoked key at once, and to every key of a revoked identity', async () => {
      const { key } = await s.identities.create({
        name: 'to-revoke',
        kind: 'service',
        scopes: ['identities:read'],
        actor: 'test',
      });
      const second = await s.identities.rotate({ nameOrId: 'to-revoke', actor: 'test' });
      await s.identities.revoke({ nameOrId: 'to-revoke', keyId: key.keyId, actor: 'test' });
      await assertNothingWritten(async () => {
        const r = await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(key.apiKey) });
        assert.equal(r.statusCode, 401);
        assert.equal(r.json<ErrorJson>().error.details?.reason, 'revoked');
      });
      assert.equal(
        (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(second.apiKey) }))
          .statusCode,
        200,
      );
      await s.identities.revoke({ nameOrId: 'to-revoke', actor: 'test' });
      assert.equal(
        (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(second.apiKey) }))
          .statusCode,
        401,
      );
    });

    it('accepts both keys during a rotation overlap and only the new one after it', async () => {
      const { key: old } = await s.identities.create({
        name: 'rotating',
        kind: 'service',
        scopes: ['identities:read'],
        actor: 'test',
      });
      const fresh = await s.identities.rotate({ nameOrId: 'rotating', overlapMs: 3_600_000, actor: 'test' });
      for (const k of [old.apiKey, fresh.apiKey]) {
        assert.equal(
          (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(k) })).statusCode,
          200,
        );
      }
      s.clock.advance(3_600_001);
      await assertNothingWritten(async () => {
        const r = await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(old.apiKey) });
        assert.equal(r.statusCode, 401);
      });
      assert.equal(
        (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(fresh.apiKey) }))
          .statusCode,
        200,
      );
    });

    it('issues access tokens for client credentials and rejects forged ones', async () => {
      const tokenResponse = await s.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=client_credentials&client_id=reader&client_secret=${encodeURIComponent(readerKey)}`,
      });
      assert.equal(tokenResponse.statusCode, 200, tokenResponse.body);
      const token = tokenResponse.json<{ access_token: string; expires_in: number }>().access_token;
      assert.equal(
        (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(token) })).statusCode,
        200,
      );

      const now = Math.floor(s.clock.now().getTime() / 1000);
      const claims = { scope: 'identities:admin', key: 'key_x', kind: 'service' };
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('kontor')
        .setAudience('kontor-api')
        .setSubject('idn_x')
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(new TextEncoder().encode('an-attacker-secret-0123456789abcdefghij'));
      const [h, p] = token.split('.');
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), scope: 'identities:admin' })).toString('base64url')}.${token.split('.')[2]}`;
      await assertNothingWritten(async () => {
        for (const bad of [forged, unsigned, tampered]) {
          const r = await s.app.inject({
            method: 'POST',
            url: '/v1/identities',
            headers: bearer(bad),
            payload: newIdentity('x4'),
          });
          assert.equal(r.statusCode, 401, bad);
        }
        const wrongSecret = await s.app.inject({
          method: 'POST',
          url: '/oauth/token',
          payload: { grant_type: 'client_credentials', client_id: 'reader', client_secret: adminKey },
        });
        assert.equal(wrongSecret.statusCode, 401);
        const noCredentials = await s.app.inject({
          method: 'POST',
          url: '/oauth/token',
          payload: { grant_type: 'client_credentials' },
        });
        assert.equal(noCredentials.statusCode, 401);
      });
      // A token signed with the real secret still dies with its identity.
      const real = await new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('kontor')
        .setAudience('kontor-api')
        .setSubject('idn_x')
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(new TextEncoder().encode(JWT_SECRET));
      assert.equal(
        (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(real) })).statusCode,
        401,
      );
      // Tokens expire.
      s.clock.advance(16 * 60_000);
      assert.equal(
        (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(token) })).statusCode,
        401,
      );
    });

    it('answers 413 to an oversized body, 400 to malformed JSON, and 400 naming the field to a schema violation', async () => {
      await assertNothingWritten(async () => {
        const big = await s.app.inject({
          method: 'POST',
          url: '/v1/identities',
          headers: { ...bearer(adminKey), 'content-type': 'application/json' },
          payload: JSON.stringify({ ...newIdentity('big'), roles: ['x'.repeat(100 * 1024)] }),
        });
        assert.equal(big.statusCode, 413);
        assert.equal(big.json<ErrorJson>().error.code, 'PAYLOAD_TOO_LARGE');

        const malformed = await s.app.inject({
          method: 'POST',
          url: '/v1/identities',
          headers: { ...bearer(adminKey), 'content-type': 'application/json' },
          payload: '{"name": "m",',
        });
        assert.equal(malformed.statusCode, 400);
        assert.equal(malformed.json<ErrorJson>().error.code, 'VALIDATION_FAILED');

        const invalid = await s.app.inject({
          method: 'POST',
          url: '/v1/identities',
          headers: bearer(adminKey),
          payload: { ...newIdentity('v'), kind: 'robot' },
        });
        assert.equal(invalid.statusCode, 400);
        const issues = invalid.json<ErrorJson>().error.details?.issues as { path: string }[];
        assert.ok(
          issues.some((i) => i.path === 'body.kind'),
          JSON.stringify(issues),
        );

        const badQuery = await s.app.inject({
          method: 'GET',
          url: '/v1/audit?limit=5000',
          headers: bearer(adminKey),
        });
        assert.equal(badQuery.statusCode, 400);
        assert.ok(
          (badQuery.json<ErrorJson>().error.details?.issues as { path: string }[]).some(
            (i) => i.path === 'querystring.limit',
          ),
        );
      });
    });

    it('replays the first response for a repeated Idempotency-Key and answers 422 when the body differs', async () => {
      const headers = { ...bearer(adminKey), 'idempotency-key': 'create-svc-1' };
      const first = await s.app.inject({
        method: 'POST',
        url: '/v1/identities',
        headers,
        payload: newIdentity('idem-svc'),
      });
      assert.equal(first.statusCode, 201, first.body);
      const created = first.json<{ identity: { id: string }; apiKey: string }>();
      await assertNothingWritten(async () => {
        const replay = await s.app.inject({
          method: 'POST',
          url: '/v1/identities',
          headers,
          payload: newIdentity('idem-svc'),
        });
        assert.equal(replay.statusCode, 201);
        assert.equal(replay.headers['idempotent-replayed'], 'true');
        const replayed = replay.json<{ identity: { id: string }; apiKey: string }>();
        assert.equal(replayed.identity.id, created.identity.id);
        // The one-time secret is not kept for replays.
        assert.notEqual(replayed.apiKey, created.apiKey);

        const reused = await s.app.inject({
          method: 'POST',
          url: '/v1/identities',
          headers,
          payload: newIdentity('idem-other'),
        });
        assert.equal(reused.statusCode, 422);
        assert.equal(reused.json<ErrorJson>().error.code, 'IDEMPOTENCY_KEY_REUSED');
      });
      // The same key of another identity is another key.
      const other = await s.identities.create({
        name: 'second-admin',
        kind: 'human',
        scopes: ['identities:admin'],
        actor: 'test',
      });
      const theirs = await s.app.inject({
        method: 'POST',
        url: '/v1/identities',
        headers: { ...bearer(other.key.apiKey), 'idempotency-key': 'create-svc-1' },
        payload: newIdentity('idem-theirs'),
      });
      assert.equal(theirs.statusCode, 201);
    });

    it('rate-limits a burst of 1,000 requests per identity with 429 and Retry-After', async () => {
      const { key } = await s.identities.create({
        name: 'burst',
        kind: 'service',
        scopes: ['identities:read'],
        actor: 'test',
      });
      let limited: Awaited<ReturnType<typeof s.app.inject>> | undefined;
      await assertNothingWritten(async () => {
        const responses = await Promise.all(
          Array.from({ length: 1000 }, () =>
            s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(key.apiKey) }),
          ),
        );
        const ok = responses.filter((r) => r.statusCode === 200).length;
        const statuses = responses.map((r) => r.statusCode).filter((c) => c !== 200 && c !== 429);
        assert.deepEqual(
          statuses,
          [],
          responses.find((r) => r.statusCode !== 200 && r.statusCode !== 429)?.body,
        );
        const tooMany = responses.filter((r) => r.statusCode === 429);
        assert.equal(ok, 100);
        assert.equal(tooMany.length, 900);
        limited = tooMany[0];
      });
      assert.ok(Number(limited!.headers['retry-after']) > 0);
      const body = limited!.json<ErrorJson>();
      assert.equal(body.error.code, 'RATE_LIMITED');
      assert.equal(body.error.type, 'rate_limit_error');
      // Another identity is not starved by the burst.
      assert.equal(
        (await s.app.inject({ method: 'GET', url: '/v1/identities', headers: bearer(readerKey) })).statusCode,
        200,
      );
    });
  });
}

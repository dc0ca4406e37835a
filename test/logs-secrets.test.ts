// Captures every log line of a full scenario (identities, tokens, failed logins, idempotent
// writes, errors that quote IBANs) and greps them for every secret and IBAN the test used.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { buildServer, type App, type RouteModule } from '../src/api/index.ts';
import { routeModules } from '../src/api/routes/index.ts';
import { DEMO_CONFIG, parseConfig } from '../src/config/index.ts';
import { ValidationError } from '../src/domain/index.ts';
import { IdentityService, TokenService } from '../src/identity/index.ts';
import { createLogger, maskSensitiveText } from '../src/observability/index.ts';
import { createTestDb, type TestDb } from './support/db.ts';
import { bearer, JWT_SECRET, PEPPER } from './security-harness.ts';

const IBANS = ['DE89370400440532013000', 'GB29NWBK60161331926819', 'FR1420041010050500013M02606'];
const PRINTED_IBAN = 'NL91 ABNA 0417 1643 00';

describe('logs never contain secrets, tokens or full IBANs', () => {
  let test: TestDb;
  let app: App;
  const lines: string[] = [];
  const secrets: string[] = [PEPPER, JWT_SECRET];

  // A route that logs and fails the way real code does: IBANs in messages, objects and errors.
  const leaky: RouteModule = async (a) => {
    a.post(
      '/v1/test/pay',
      {
        config: { scope: 'payments:write' },
        schema: { hide: true, body: z.object({ iban: z.string(), note: z.string() }) },
      },
      async (request) => {
        request.log.info(
          { creditor: { iban: request.body.iban }, note: request.body.note },
          `paying to ${request.body.iban}`,
        );
        request.log.info({ apiKey: 'kontor_in-a-field', headers: request.headers }, 'debugging the request');
        throw new ValidationError(`creditor account ${request.body.iban} is blocked`, [
          { path: 'body.iban', message: `IBAN ${PRINTED_IBAN} is blocked` },
        ]);
      },
    );
  };

  before(async () => {
    test = await createTestDb('pglite');
    const logger = createLogger({
      level: 'trace',
      destination: { write: (l: string) => void lines.push(l) },
    });
    const identities = new IdentityService(test.db, PEPPER);
    const tokens = new TokenService(identities, JWT_SECRET);
    app = await buildServer(
      {
        db: test.db,
        config: parseConfig(DEMO_CONFIG),
        logger,
        version: 'test',
        readiness: [],
        security: { identities, tokens },
      },
      { modules: [...routeModules, leaky] },
    );
  });
  after(async () => {
    await app.close();
    await test.drop();
  });

  it('masks what a full scenario would otherwise leak', async () => {
    const admin = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(admin.statusCode, 200);
    const identities = new IdentityService(test.db, PEPPER);
    const root = await identities.create({
      name: 'root',
      kind: 'human',
      scopes: ['identities:admin', 'payments:write'],
      actor: 'cli',
    });
    secrets.push(root.key.apiKey);

    const created = await app.inject({
      method: 'POST',
      url: '/v1/identities',
      headers: { ...bearer(root.key.apiKey), 'idempotency-key': 'idem-secret-1' },
      payload: { name: 'psp', kind: 'service', scopes: ['payments:write'] },
    });
    assert.equal(created.statusCode, 201);
    const pspKey = created.json<{ apiKey: string }>().apiKey;
    secrets.push(pspKey);

    const token = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: 'psp', client_secret: pspKey },
    });
    const accessToken = token.json<{ access_token: string }>().access_token;
    secrets.push(accessToken);

    await app.inject({
      method: 'GET',
      url: '/v1/identities',
      headers: bearer('kontor_wrong-key-that-someone-guessed-000000'),
    });
    await app.inject({
      method: 'GET',
      url: `/v1/identities?iban=${IBANS[1]}&token=${accessToken}`,
      headers: bearer(accessToken),
    });
    for (const iban of IBANS) {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/test/pay',
        headers: { ...bearer(accessToken), 'idempotency-key': `idem-secret-${iban}` },
        payload: { iban, note: `also ${PRINTED_IBAN}` },
      });
      assert.equal(r.statusCode, 400);
    }
    await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { authorization: `Basic ${Buffer.from(`psp:${pspKey}`).toString('base64')}` },
      payload: { grant_type: 'client_credentials' },
    });

    const log = lines.join('');
    assert.ok(lines.length > 20, `captured ${lines.length} lines`);
    assert.match(log, /paying to DE89\*+3000/, 'IBANs are masked, not dropped');
    assert.match(log, /"correlationId":"[^"]+"/);
    assert.match(log, /"identityId":"idn_/);
    for (const secret of secrets)
      assert.ok(!log.includes(secret), `a secret leaked into the logs: ${secret.slice(0, 12)}…`);
    for (const iban of [...IBANS, PRINTED_IBAN, PRINTED_IBAN.replace(/ /g, '')])
      assert.ok(!log.includes(iban), `a full IBAN leaked: ${iban.slice(0, 4)}…`);
    assert.ok(!log.includes('idem-secret-'), 'idempotency keys are redacted');
  });

  it('masks IBANs, keys, JWTs and bearer credentials in any text', () => {
    assert.equal(maskSensitiveText('to DE89370400440532013000.'), 'to DE89**************3000.');
    assert.equal(maskSensitiveText('Authorization: Bearer abc.def'), 'Authorization: Bearer [redacted]');
    assert.equal(maskSensitiveText('key kontor_abcdefghijklmnopqrstuvwxyz012345'), 'key kontor_[redacted]');
  });
});

// End to end against the sandbox Odoo over REST: open bill → order → two human approvals (the
// creator's refused) → release → file in the outbox → pain.002 → bill paid in Odoo (residual 0).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../src/config/index.ts';
import { OdooClient, startSandboxOdoo, type SandboxOdoo } from '../src/connectors/odoo/index.ts';
import { startKontor, type RunningKontor } from '../src/main.ts';
import { createLogger } from '../src/observability/index.ts';
import { makePain002 } from './support/pain002.ts';

const IBAN = 'DE89370400440532013000';

describe('payment run end to end (REST → sandbox Odoo)', () => {
  let dir: string;
  let odoo: SandboxOdoo;
  let kontor: RunningKontor;
  const keys: Record<string, string> = {};
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-payrun-e2e-'));
    odoo = await startSandboxOdoo();
    const config = parseConfig(
      `entities:\n  - {id: demo, name: Kontor Demo GmbH, country: DE, baseCurrency: EUR, odooCompanyId: 1}\nbankAccounts:\n  - {id: demo-eur, entity: demo, iban: ${IBAN}, bic: COBADEFFXXX, currency: EUR, odooJournal: BNK1, outbox: ${join(dir, 'bank-out')}}\napprovalPolicy:\n  bands: [{currency: EUR, from: "0", approvals: 2}]\n`,
    );
    kontor = await startKontor({
      config,
      env: {
        KONTOR_DATA_DIR: join(dir, 'data'),
        KONTOR_PORT: '0',
        KONTOR_XSD_DIR: new URL('../../shared/fixtures/xsd/', import.meta.url).pathname,
        ODOO_URL: odoo.url,
        ODOO_DB: odoo.db,
        ODOO_USER: odoo.login,
        ODOO_API_KEY: odoo.apiKey,
      },
      logger: createLogger({ level: 'silent' }),
    });
    const identities = kontor.services.security!.identities;
    const make = async (name: string, kind: 'human' | 'service', scopes: string[]) =>
      (keys[name] = (await identities.create({ name, kind, scopes, actor: 'test' })).key.apiKey);
    await make('clerk', 'human', ['payment-orders:write', 'payment-orders:read', 'payment-orders:approve']);
    await make('alice', 'human', ['payment-orders:approve', 'payment-orders:read']);
    await make('bob', 'human', ['payment-orders:approve', 'payment-orders:admin']);
    await make('bank', 'service', ['payments:write']);
  });
  after(async () => {
    await kontor?.stop();
    await odoo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function call(who: string, method: string, path: string, body?: unknown, type = 'application/json') {
    const res = await fetch(`${kontor.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${keys[who]}`,
        ...(body === undefined ? {} : { 'content-type': type }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions below
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  it('pays an open vendor bill from proposal to residual 0 in Odoo', async () => {
    const proposed = await call('clerk', 'POST', '/v1/payment-orders', {
      bankAccountId: 'demo-eur',
      dueBy: '2099-12-31',
    });
    assert.equal(proposed.status, 201, JSON.stringify(proposed.json));
    const id = proposed.json.orderId as string;
    assert.equal(proposed.json.billCount, 2);
    assert.equal((await call('clerk', 'POST', `/v1/payment-orders/${id}/submit`)).status, 200);
    const policy = await call('alice', 'GET', `/v1/payment-orders/${id}/policy`);
    assert.equal(policy.json.requiredApprovals, 2);
    const own = await call('clerk', 'POST', `/v1/payment-orders/${id}/approve`);
    assert.equal(own.status, 403);
    assert.equal(own.json.error.code, 'SOD_CREATOR_CANNOT_APPROVE');
    assert.equal((await call('bank', 'POST', `/v1/payment-orders/${id}/approve`)).status, 403);
    assert.equal(
      (await call('alice', 'POST', `/v1/payment-orders/${id}/approve`)).json.state,
      'pending_approval',
    );
    assert.equal((await call('bob', 'POST', `/v1/payment-orders/${id}/approve`)).json.state, 'approved');
    const released = await call('clerk', 'POST', `/v1/payment-orders/${id}/release`);
    assert.equal(released.status, 200, JSON.stringify(released.json));
    const path = join(dir, 'bank-out', released.json.fileName as string);
    assert.ok(existsSync(path));
    const file = await call('alice', 'GET', `/v1/payment-orders/${id}/file`);
    assert.equal(file.json, readFileSync(path, 'utf8'));
    const order = (await call('alice', 'GET', `/v1/payment-orders/${id}`)).json;
    const report = makePain002(
      order.messageId,
      order.lines.map((l: { endToEndId: string }) => ({ endToEndId: l.endToEndId, status: 'ACSC' })),
    );
    const applied = await call('bank', 'POST', '/v1/payment-status-reports', report, 'application/xml');
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    assert.equal(applied.json.registered, 1);
    assert.deepEqual(applied.json.orders, [{ orderId: id, state: 'settled' }]);
    // The same report again changes nothing, in Kontor or in Odoo.
    assert.equal(
      (await call('bank', 'POST', '/v1/payment-status-reports', report, 'application/xml')).json.registered,
      0,
    );

    const client = await OdooClient.connect({
      url: odoo.url,
      db: odoo.db,
      login: odoo.login,
      apiKey: odoo.apiKey,
    });
    const billIds = order.lines.flatMap((l: { bills: { billId: string }[] }) =>
      l.bills.map((b) => Number(b.billId)),
    );
    const moves = await client.readMoves(1, billIds);
    assert.deepEqual(
      moves.map((m) => m.residual.amount),
      billIds.map(() => 0n),
    );
  });
});

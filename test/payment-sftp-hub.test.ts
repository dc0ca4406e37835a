// The SFTP bank channel as an integrator configures it: kontor.yaml `bankAccounts[].sftp` with the
// server's host-key fingerprint, the password in KONTOR_SFTP_PASSWORD_<ACCOUNT>, and a release over
// REST that lands the pain.001 on the bank's server once (sent), while the hub's local outbox keeps
// its durable copy. A hub configured with a wrong fingerprint uploads nothing and the order waits.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../src/config/index.ts';
import { startSandboxOdoo, type SandboxOdoo } from '../src/connectors/odoo/index.ts';
import { startKontor, type RunningKontor } from '../src/main.ts';
import { createLogger } from '../src/observability/index.ts';
import { startSftpServer, type TestSftpServer } from './support/sftp-server.ts';

const IBAN = 'DE89370400440532013000';

describe('payment release through the configured SFTP channel (hub, REST, sandbox Odoo)', () => {
  let dir: string;
  let odoo: SandboxOdoo;
  let sftp: TestSftpServer;
  const hubs: RunningKontor[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-sftp-hub-'));
    odoo = await startSandboxOdoo();
    sftp = await startSftpServer(join(dir, 'bank'));
    mkdirSync(join(sftp.root, 'upload'), { recursive: true });
  });
  after(async () => {
    for (const h of hubs) await h.stop();
    await sftp?.stop();
    await odoo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function hub(name: string, hostKeySha256: string) {
    const config = parseConfig(
      [
        'entities:',
        '  - {id: demo, name: Kontor Demo GmbH, country: DE, baseCurrency: EUR, odooCompanyId: 1}',
        'bankAccounts:',
        `  - id: demo-eur`,
        '    entity: demo',
        `    iban: ${IBAN}`,
        '    bic: COBADEFFXXX',
        '    currency: EUR',
        '    odooJournal: BNK1',
        `    outbox: ${join(dir, name, 'outbox')}`,
        '    sftp:',
        `      host: ${sftp.host}`,
        `      port: ${sftp.port}`,
        `      username: ${sftp.username}`,
        `      path: /upload`,
        `      hostKeySha256: "${hostKeySha256}"`,
        'approvalPolicy:',
        '  bands: [{currency: EUR, from: "0", approvals: 2}]',
        '',
      ].join('\n'),
    );
    const kontor = await startKontor({
      config,
      env: {
        KONTOR_DATA_DIR: join(dir, name, 'data'),
        KONTOR_PORT: '0',
        KONTOR_XSD_DIR: new URL('../../shared/fixtures/xsd/', import.meta.url).pathname,
        KONTOR_SFTP_PASSWORD_DEMO_EUR: sftp.password,
        ODOO_URL: odoo.url,
        ODOO_DB: odoo.db,
        ODOO_USER: odoo.login,
        ODOO_API_KEY: odoo.apiKey,
      },
      logger: createLogger({ level: 'silent' }),
    });
    hubs.push(kontor);
    const identities = kontor.services.security!.identities;
    const keys: Record<string, string> = {};
    for (const [who, scopes] of [
      ['clerk', ['payment-orders:write', 'payment-orders:read']],
      ['alice', ['payment-orders:approve', 'payment-orders:read']],
      ['bob', ['payment-orders:approve']],
    ] as const)
      keys[who] = (
        await identities.create({ name: who, kind: 'human', scopes: [...scopes], actor: 'test' })
      ).key.apiKey;
    const call = async (who: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${kontor.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${keys[who]}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked by the assertions
      return { status: res.status, json: (await res.json()) as any };
    };
    const approvedOrder = async (): Promise<string> => {
      const proposed = await call('clerk', 'POST', '/v1/payment-orders', {
        bankAccountId: 'demo-eur',
        dueBy: '2099-12-31',
      });
      assert.equal(proposed.status, 201, JSON.stringify(proposed.json));
      const id = proposed.json.orderId as string;
      assert.equal((await call('clerk', 'POST', `/v1/payment-orders/${id}/submit`)).status, 200);
      assert.equal((await call('alice', 'POST', `/v1/payment-orders/${id}/approve`)).status, 200);
      assert.equal((await call('bob', 'POST', `/v1/payment-orders/${id}/approve`)).json.state, 'approved');
      return id;
    };
    return { kontor, call, approvedOrder };
  }

  it('uploads the released file to the bank once and records the order as sent', async () => {
    const h = await hub('good', sftp.hostKeySha256);
    const id = await h.approvedOrder();
    const released = await h.call('clerk', 'POST', `/v1/payment-orders/${id}/release`);
    assert.equal(released.status, 200, JSON.stringify(released.json));
    const name = released.json.fileName as string;
    const remote = join(sftp.root, 'upload', name);
    assert.ok(existsSync(remote), JSON.stringify(released.json));
    assert.equal(readFileSync(remote, 'utf8'), readFileSync(join(dir, 'good', 'outbox', name), 'utf8'));
    assert.equal((await h.call('clerk', 'GET', `/v1/payment-orders/${id}`)).json.state, 'sent');
    const again = await h.call('clerk', 'POST', `/v1/payment-orders/${id}/release`);
    assert.ok(again.status === 200 || again.status === 409, JSON.stringify(again.json));
    assert.deepEqual(readdirSync(join(sftp.root, 'upload')), [name], 'one file, no temp left');
  });

  it('a hub with a wrong host-key fingerprint uploads nothing and keeps the order released', async () => {
    const h = await hub('mitm', `SHA256:${'B'.repeat(43)}`);
    const before = readdirSync(join(sftp.root, 'upload')).length;
    const writes = sftp.stats.writes;
    const id = await h.approvedOrder();
    const released = await h.call('clerk', 'POST', `/v1/payment-orders/${id}/release`);
    assert.equal(released.status, 200, JSON.stringify(released.json));
    assert.equal(released.json.delivery?.error?.code, 'BANK_CHANNEL_HOST_KEY_MISMATCH');
    assert.equal(sftp.stats.writes, writes);
    assert.equal(readdirSync(join(sftp.root, 'upload')).length, before);
    assert.equal((await h.call('clerk', 'GET', `/v1/payment-orders/${id}`)).json.state, 'released');
  });
});

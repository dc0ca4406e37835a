// End to end: a statement file uploaded over REST lands in the sandbox Odoo once, however often
// it is sent, and a hub killed while posting finishes the job after a restart without doubles.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../src/config/index.ts';
import { OdooClient, startSandboxOdoo, type SandboxOdoo } from '../src/connectors/odoo/index.ts';
import { startKontor, type RunningKontor } from '../src/main.ts';
import { createLogger } from '../src/observability/index.ts';
import { makeCamt, type CamtEntry } from './support/camt.ts';
import { createPostgresDatabase } from './support/db.ts';
import { spawnKontor, waitForUrl } from './support/process.ts';

const IBAN = 'DE89370400440532013000';

function entries(n: number, prefix: string): CamtEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    ref: `${prefix}-${i + 1}`,
    amount: i % 3 === 0 ? `-${(i % 50) + 1}.25` : `${(i % 90) + 10}.00`,
    date: '2026-11-20',
    name: i % 2 === 0 ? 'Deco Addict' : 'Walk-in',
    remittance: `payment ${prefix} ${i + 1}`,
  }));
}

async function journalLines(odoo: SandboxOdoo): Promise<number> {
  const client = await OdooClient.connect({
    url: odoo.url,
    db: odoo.db,
    login: odoo.login,
    apiKey: odoo.apiKey,
  });
  const company = (await client.listCompanies())[0]!.id;
  const journal = (await client.listBankJournals(company)).find((j) => j.code === 'BNK1')!;
  return client.countStatementLines(company, journal.id);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('statement import end to end (REST → sandbox Odoo)', () => {
  let dir: string;
  let odoo: SandboxOdoo;
  let kontor: RunningKontor;
  let key: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-e2e-'));
    odoo = await startSandboxOdoo();
    const config = parseConfig(
      `entities:\n  - {id: demo, name: Demo, country: DE, baseCurrency: EUR, odooCompanyId: 1}\nbankAccounts:\n  - {id: demo-eur, entity: demo, iban: ${IBAN}, currency: EUR, odooJournal: BNK1}\nodoo:\n  batchSize: 7\n`,
    );
    kontor = await startKontor({
      config,
      env: {
        KONTOR_DATA_DIR: join(dir, 'data'),
        KONTOR_PORT: '0',
        ODOO_URL: odoo.url,
        ODOO_DB: odoo.db,
        ODOO_USER: odoo.login,
        ODOO_API_KEY: odoo.apiKey,
      },
      logger: createLogger({ level: 'silent' }),
    });
    key = (
      await kontor.services.security!.identities.create({
        name: 'bank-adapter',
        kind: 'service',
        scopes: ['statements:write', 'statements:read'],
        actor: 'test',
      })
    ).key.apiKey;
  });
  after(async () => {
    await kontor.stop();
    await odoo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const upload = (body: string, name = 'stmt.xml') =>
    fetch(`${kontor.url}/v1/statements?filename=${name}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/xml' },
      body,
    });

  it('posts every line once, answers a re-upload with the first import, and shows per-line Odoo ids', async () => {
    const before = await journalLines(odoo);
    const file = makeCamt({ iban: IBAN, statementId: 'E2E-1', entries: entries(20, 'E2E') });
    const first = await upload(file);
    assert.equal(first.status, 201);
    const summary = (await first.json()) as { importId: string; newLines: number };
    assert.equal(summary.newLines, 20);

    await waitFor('the import to be posted', async () => {
      const r = (await (
        await fetch(`${kontor.url}/v1/statements/${summary.importId}`, {
          headers: { authorization: `Bearer ${key}` },
        })
      ).json()) as { status: string };
      return r.status === 'posted';
    });
    assert.equal((await journalLines(odoo)) - before, 20);

    const again = await upload(file);
    assert.equal(again.status, 200);
    assert.equal(
      ((await again.json()) as { importId: string; duplicate: boolean }).importId,
      summary.importId,
    );
    const reposted = await kontor.services.statements!.postPending();
    assert.equal(reposted.posted, 0);
    assert.equal((await journalLines(odoo)) - before, 20, 'nothing new in Odoo');

    const detail = (await (
      await fetch(`${kontor.url}/v1/statements/${summary.importId}`, {
        headers: { authorization: `Bearer ${key}` },
      })
    ).json()) as {
      statementLines: { odoo: { status: string; lineId: number | null } }[];
    };
    assert.equal(detail.statementLines.length, 20);
    assert.ok(
      detail.statementLines.every((l) => l.odoo.status === 'posted' && typeof l.odoo.lineId === 'number'),
    );
    assert.equal(new Set(detail.statementLines.map((l) => l.odoo.lineId)).size, 20);
  });

  it('rejects an upload without the statements:write scope and stores nothing', async () => {
    const reader = (
      await kontor.services.security!.identities.create({
        name: 'reader',
        kind: 'service',
        scopes: ['statements:read'],
        actor: 'test',
      })
    ).key.apiKey;
    const r = await fetch(`${kontor.url}/v1/statements`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/xml' },
      body: makeCamt({ iban: IBAN, statementId: 'NOPE', entries: entries(1, 'NOPE') }),
    });
    assert.equal(r.status, 403);
    const list = (await (
      await fetch(`${kontor.url}/v1/statements`, { headers: { authorization: `Bearer ${reader}` } })
    ).json()) as { data: { fileName: string }[] };
    assert.ok(list.data.every((i) => i.fileName !== 'NOPE'));
  });

  it('accepts the file as a multipart upload too', async () => {
    const form = new FormData();
    form.append(
      'file',
      new Blob([makeCamt({ iban: IBAN, statementId: 'MP-1', entries: entries(2, 'MP') })], {
        type: 'application/xml',
      }),
      'multipart.xml',
    );
    const r = await fetch(`${kontor.url}/v1/statements`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    assert.equal(r.status, 201);
    const body = (await r.json()) as { fileName: string; newLines: number };
    assert.deepEqual([body.fileName, body.newLines], ['multipart.xml', 2]);
  });

  it('answers a malformed file with a typed 400 naming where it broke', async () => {
    const r = await upload(
      '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt>',
      'broken.xml',
    );
    assert.equal(r.status, 400);
    const body = (await r.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'STATEMENT_PARSE_FAILED');
  });
});

describe('a hub killed while posting resumes and posts each line exactly once', () => {
  it('survives SIGKILL between batches (PostgreSQL, external Odoo)', async () => {
    const odoo = await startSandboxOdoo();
    const pg = await createPostgresDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'kontor-crash-'));
    try {
      const total = 300;
      const configFile = join(dir, 'kontor.yaml');
      writeFileSync(
        configFile,
        `entities:\n  - {id: demo, name: Demo, country: DE, baseCurrency: EUR, odooCompanyId: 1}\nbankAccounts:\n  - {id: demo-eur, entity: demo, iban: ${IBAN}, currency: EUR, odooJournal: BNK1}\nodoo:\n  batchSize: 10\n  requestsPerSecond: 3\n  burst: 1\n`,
      );
      const file = join(dir, 'big.xml');
      writeFileSync(file, makeCamt({ iban: IBAN, statementId: 'CRASH-1', entries: entries(total, 'CR') }));
      const env = {
        KONTOR_CONFIG: configFile,
        KONTOR_DATABASE_URL: pg.url,
        KONTOR_PORT: '0',
        ODOO_URL: odoo.url,
        ODOO_DB: odoo.db,
        ODOO_USER: odoo.login,
        ODOO_API_KEY: odoo.apiKey,
      };
      const baseline = await journalLines(odoo);

      // Store only, then let a hub post: kill it once some, but not all, lines are in Odoo. The
      // throttle (3 calls/s, two calls per batch of 10) keeps posting slow enough to be caught mid-way.
      const imported = spawnKontor(['import', '--no-post', file], env, dir);
      assert.equal(await imported.exited, 0, imported.stderr());
      const hub = spawnKontor(['start'], env, dir);
      // Watch Odoo, not the hub's URL: posting starts before the hub listens.
      await waitFor(
        'the first batches to reach Odoo',
        async () => (await journalLines(odoo)) - baseline >= 20,
      );
      hub.child.kill('SIGKILL');
      await hub.exited;
      const atKill = (await journalLines(odoo)) - baseline;
      assert.ok(atKill < total, `killed mid-way (${atKill} of ${total} posted)`);

      const restarted = spawnKontor(['start'], env, dir);
      await waitForUrl(restarted);
      await waitFor(
        'every line to reach Odoo',
        async () => (await journalLines(odoo)) - baseline >= total,
        90_000,
      );
      await new Promise((r) => setTimeout(r, 500));
      restarted.child.kill('SIGTERM');
      assert.equal(await restarted.exited, 0);
      assert.equal((await journalLines(odoo)) - baseline, total, 'each line exactly once');
    } finally {
      await odoo.close();
      await pg.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

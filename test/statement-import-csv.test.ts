// CSV statements through every channel: the flow, REST (?account= and the multipart field), an
// account's inbox folder and `kontor import --account`, each reading the file with the csvProfile
// of the bank account it is for.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { recordAudit } from '../src/audit/index.ts';
import { parseConfig } from '../src/config/index.ts';
import { startSandboxOdoo, type SandboxOdoo } from '../src/connectors/odoo/index.ts';
import { ErrorCodes, fixedClock, sequentialIds } from '../src/domain/index.ts';
import { publish } from '../src/events/index.ts';
import {
  importStatementFile,
  listImports,
  type ImportAccount,
  type StatementImportDeps,
} from '../src/flows/statement-import/index.ts';
import { startKontor, type RunningKontor } from '../src/main.ts';
import { createLogger } from '../src/observability/index.ts';
import { makeCamt } from './support/camt.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { runKontor } from './support/process.ts';

const CSV_IBAN = 'DE89370400440532013000';
const CAMT_IBAN = 'GB82WEST12345698765432';
const profile = {
  delimiter: ';',
  dateFormat: 'DD.MM.YYYY',
  decimalSeparator: ',' as const,
  currency: 'EUR',
  columns: { bookingDate: 'Datum', amount: 'Betrag', remittanceInfo: ['Text'], counterpartyName: 'Name' },
};
const accounts: ImportAccount[] = [
  {
    id: 'csv-eur',
    entity: 'demo',
    iban: CSV_IBAN,
    currency: 'EUR',
    odooJournal: 'BNK1',
    csvProfile: profile,
  },
  { id: 'plain-eur', entity: 'demo', iban: CAMT_IBAN, currency: 'EUR', odooJournal: 'BNK1' },
];
const enc = (s: string) => new TextEncoder().encode(s);

function csv(tag: string, rows = 2): string {
  const lines = ['Datum;Betrag;Text;Name'];
  for (let i = 1; i <= rows; i++)
    lines.push(
      `${String(i).padStart(2, '0')}.11.2026;${i % 2 === 0 ? '-' : ''}${i}0,50;${tag} ${i};Payer ${i}`,
    );
  return `${lines.join('\n')}\n`;
}

for (const backend of backends) {
  describe(`CSV statement import (flow) on ${backend}`, () => {
    let t: TestDb;
    let deps: StatementImportDeps;
    const clock = fixedClock(Date.parse('2026-11-22T08:00:00Z'));
    before(async () => {
      t = await createTestDb(backend);
    });
    after(async () => {
      await t.drop();
    });
    beforeEach(async () => {
      await t.db.exec('TRUNCATE statement_lines, bank_statements, statement_imports CASCADE');
      deps = {
        db: t.db,
        accounts,
        entities: [{ id: 'demo', odooCompanyId: 1 }],
        clock,
        ids: sequentialIds(`${backend}${Date.now()}`),
        publish: (tx, e) => publish(tx, e, { clock }),
        audit: (tx, e) => recordAudit(tx, e),
      };
    });

    it('reads a CSV with the profile of the named account and stores its lines', async () => {
      const r = await importStatementFile(deps, {
        content: enc(csv('flow', 3)),
        fileName: 'nov.csv',
        source: 'api',
        actor: 't',
        account: 'csv-eur',
      });
      assert.equal(r.format, 'csv');
      assert.equal(r.newLines, 3);
      assert.equal(r.statements[0]!.bankAccountId, 'csv-eur');
      const lines = await t.db.query<{ amount: string; remittance_info: string }>(
        'SELECT amount::text, remittance_info FROM statement_lines ORDER BY seq_in_statement',
      );
      assert.deepEqual(
        lines.rows.map((l) => [l.amount, l.remittance_info]),
        [
          ['1050', 'flow 1'],
          ['-2050', 'flow 2'],
          ['3050', 'flow 3'],
        ],
      );
    });

    it('refuses a CSV without an account, for an unknown account or one without a profile, storing nothing', async () => {
      const cases: [string | undefined, string, RegExp][] = [
        [undefined, ErrorCodes.VALIDATION_FAILED, /names no account/],
        ['nope', ErrorCodes.STATEMENT_ACCOUNT_UNKNOWN, /no bank account "nope"/],
        ['plain-eur', ErrorCodes.VALIDATION_FAILED, /has no csvProfile/],
      ];
      for (const [account, code, message] of cases) {
        await assert.rejects(
          importStatementFile(deps, { content: enc(csv('bad')), source: 'api', actor: 't', account }),
          (e: unknown) => {
            assert.equal((e as { code: string }).code, code);
            assert.match((e as Error).message, message);
            return true;
          },
        );
      }
      assert.equal((await listImports(t.db, { limit: 10 })).data.length, 0);
    });

    it('refuses a camt named for another account than its own', async () => {
      const camt = makeCamt({
        iban: CAMT_IBAN,
        statementId: 'C-1',
        entries: [{ ref: 'X1', amount: '5.00', date: '2026-11-20', name: 'A', remittance: 'r' }],
      });
      await assert.rejects(
        importStatementFile(deps, { content: enc(camt), source: 'api', actor: 't', account: 'csv-eur' }),
        /is for bank account plain-eur, not csv-eur/,
      );
      const ok = await importStatementFile(deps, {
        content: enc(camt),
        source: 'api',
        actor: 't',
        account: 'plain-eur',
      });
      assert.equal(ok.newLines, 1);
    });
  });
}

describe('CSV statements through REST, an inbox folder and the CLI', () => {
  let dir: string;
  let inbox: string;
  let odoo: SandboxOdoo;
  let kontor: RunningKontor;
  let key: string;
  let yaml: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-csv-'));
    inbox = join(dir, 'inbox');
    mkdirSync(inbox);
    odoo = await startSandboxOdoo();
    yaml = [
      'entities:',
      '  - {id: demo, name: Demo, country: DE, baseCurrency: EUR, odooCompanyId: 1}',
      'bankAccounts:',
      `  - id: csv-eur`,
      `    entity: demo`,
      `    iban: ${CSV_IBAN}`,
      `    currency: EUR`,
      `    odooJournal: BNK1`,
      `    inbox: ${inbox}`,
      `    csvProfile: ${JSON.stringify(profile)}`,
      `  - {id: plain-eur, entity: demo, iban: ${CAMT_IBAN}, currency: EUR, odooJournal: BNK1}`,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'kontor.yaml'), yaml);
    kontor = await startKontor({
      config: parseConfig(yaml),
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
    await kontor?.stop();
    await odoo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: string | FormData, query = '') =>
    fetch(`${kontor.url}/v1/statements${query}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(typeof body === 'string' ? { 'content-type': 'text/csv' } : {}),
      },
      body,
    });

  it('imports a CSV posted with ?account= and answers 400 without it or for an account without a profile', async () => {
    const missing = await post(csv('rest-missing'));
    assert.equal(missing.status, 400);
    const body = (await missing.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'VALIDATION_FAILED');
    assert.match(body.error.message, /\?account=<id>/);

    const noProfile = await post(csv('rest-noprofile'), '?account=plain-eur');
    assert.equal(noProfile.status, 400);
    assert.match(((await noProfile.json()) as { error: { message: string } }).error.message, /csvProfile/);

    const ok = await post(csv('rest', 4), '?account=csv-eur&filename=rest.csv');
    assert.equal(ok.status, 201);
    const summary = (await ok.json()) as {
      format: string;
      newLines: number;
      statements: { bankAccountId: string }[];
    };
    assert.deepEqual(
      [summary.format, summary.newLines, summary.statements[0]!.bankAccountId],
      ['csv', 4, 'csv-eur'],
    );
  });

  it('takes the account from a multipart field', async () => {
    const form = new FormData();
    form.append('account', 'csv-eur');
    form.append('file', new Blob([csv('multipart', 2)], { type: 'text/csv' }), 'multipart.csv');
    const r = await post(form);
    assert.equal(r.status, 201);
    const body = (await r.json()) as { fileName: string; newLines: number };
    assert.deepEqual([body.fileName, body.newLines], ['multipart.csv', 2]);
  });

  it("reads a CSV dropped into the account's inbox folder with that account's profile", async () => {
    writeFileSync(join(inbox, 'dropped.csv'), csv('inbox', 5));
    const started = Date.now();
    let found: { fileName: string | null } | undefined;
    while (found === undefined && Date.now() - started < 30_000) {
      const page = await kontor.services.statements!.list({ limit: 50 });
      found = page.data.find((i) => i.fileName === 'dropped.csv');
      if (found === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(
      found,
      `the inbox file was not imported (failed/: ${existsSync(join(inbox, 'failed')) ? readdirSync(join(inbox, 'failed')).join(', ') : '-'})`,
    );
  });

  it('imports a CSV with kontor import --account and refuses it without', async () => {
    const file = join(dir, 'cli.csv');
    writeFileSync(file, csv('cli', 3));
    const env = {
      KONTOR_DATA_DIR: join(dir, 'cli-data'),
      ODOO_URL: odoo.url,
      ODOO_DB: odoo.db,
      ODOO_USER: odoo.login,
      ODOO_API_KEY: odoo.apiKey,
      KONTOR_LOG_LEVEL: 'warn',
    };
    const cfg = join(dir, 'kontor.yaml');
    const refused = await runKontor(['import', '-c', cfg, '--no-post', file], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /names no account/);
    const done = await runKontor(['import', '-c', cfg, '--no-post', '--account', 'csv-eur', file], env);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /cli\.csv: imported as imp_\w+ — 1 statement\(s\), 3 new line\(s\)/);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, DEMO_CONFIG, loadConfig, loadSecrets, parseConfig } from './index.ts';

function issuesOf(text: string) {
  try {
    parseConfig(text, 'kontor.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.issues;
  }
  assert.fail('expected a ConfigError');
}

describe('kontor.yaml', () => {
  it('accepts the documented example and the demo defaults', () => {
    const example = parseConfig(readFileSync(new URL('../../kontor.example.yaml', import.meta.url), 'utf8'));
    assert.equal(example.bankAccounts[0]?.iban, 'DE89370400440532013000');
    assert.equal(example.odoo.batchSize, 200);
    const demo = parseConfig(DEMO_CONFIG);
    assert.equal(demo.server.port, 8420);
    assert.equal(demo.dataDir, './.kontor');
  });

  it('names the key and the line of each problem', () => {
    const issues = issuesOf(`entities:
  - id: acme
    name: ACME
    country: DE
    baseCurrency: EURO
bankAccounts:
  - id: main
    entity: acme
    iban: DE89370400440532013001
    currency: EUR
    odooJournal: BNK1
`);
    const byPath = new Map(issues.map((i) => [i.path, i]));
    assert.equal(byPath.get('entities.0.baseCurrency')?.line, 5);
    assert.equal(byPath.get('bankAccounts.0.iban')?.line, 9);
    assert.match(byPath.get('bankAccounts.0.iban')?.message ?? '', /check digits/);
  });

  it('checks references between sections', () => {
    const issues = issuesOf(`entities:
  - {id: acme, name: ACME, country: DE, baseCurrency: EUR}
bankAccounts:
  - id: main
    entity: acme-typo
    iban: DE89370400440532013000
    currency: EUR
    odooJournal: BNK1
`);
    assert.deepEqual(
      issues.map((i) => [i.path, i.line]),
      [['bankAccounts.0.entity', 5]],
    );
    assert.match(issues[0]!.message, /unknown entity "acme-typo" \(declared entities: acme\)/);
  });

  it('rejects unknown keys, duplicates and bad cron expressions', () => {
    assert.ok(issuesOf('server:\n  prot: 1\n').some((i) => i.path === 'server' && /prot/.test(i.message)));
    const dup = issuesOf(
      'entities:\n  - {id: a, name: A, country: DE, baseCurrency: EUR}\n  - {id: a, name: B, country: DE, baseCurrency: EUR}\n',
    );
    assert.ok(dup.some((i) => i.path === 'entities.1.id' && /duplicate/.test(i.message)));
    const cron = issuesOf('schedules:\n  - {name: x, cron: "every day", task: t}\n');
    assert.ok(cron.some((i) => i.path === 'schedules.0.cron' && i.line === 2));
  });

  it('refuses secrets in the file', () => {
    const issues = issuesOf('odoo:\n  url: https://odoo.example.com\n  apiKey: abc123\n');
    assert.deepEqual(
      issues.map((i) => [i.path, i.line]),
      [['odoo.apiKey', 3]],
    );
    assert.match(issues[0]!.message, /environment or the secrets file/);
  });

  it('reports YAML syntax errors with their line', () => {
    const issues = issuesOf('entities:\n  - id: a\n   name: broken indent\n');
    assert.equal(issues[0]?.path, '(yaml)');
    assert.equal(typeof issues[0]?.line, 'number');
  });

  it('resolves relative paths against the file and reads secrets with the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kontor-cfg-'));
    try {
      writeFileSync(
        join(dir, 'secrets.env'),
        '# comment\nODOO_API_KEY=from-file\nKONTOR_DATABASE_URL=postgres://x@h/db\n',
      );
      writeFileSync(
        join(dir, 'kontor.yaml'),
        'dataDir: ./state\nsecretsFile: secrets.env\nentities:\n  - {id: e, name: E, country: DE, baseCurrency: EUR}\nbankAccounts:\n  - {id: a, entity: e, iban: DE89370400440532013000, currency: EUR, odooJournal: BNK1, inbox: in/a, outbox: out/a}\n',
      );
      const { config, file } = loadConfig(join(dir, 'kontor.yaml'), {});
      assert.equal(file, join(dir, 'kontor.yaml'));
      assert.equal(config.dataDir, join(dir, 'state'));
      assert.deepEqual(
        [config.bankAccounts[0]?.inbox, config.bankAccounts[0]?.outbox],
        [join(dir, 'in/a'), join(dir, 'out/a')],
      );
      const secrets = loadSecrets(config.secretsFile, { ODOO_API_KEY: 'from-env' });
      assert.equal(secrets.ODOO_API_KEY, 'from-env');
      assert.equal(secrets.KONTOR_DATABASE_URL, 'postgres://x@h/db');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing file as a config error', () => {
    assert.throws(
      () => loadConfig('/nonexistent/kontor.yaml', {}),
      (e: unknown) => e instanceof ConfigError && /ENOENT/.test(e.message),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../config/index.ts';
import { ErrorCodes } from '../../domain/index.ts';
import { StatementParseError } from '../../formats/index.ts';
import { inspectStatementFile } from './statement-inspect.ts';

const fixtures = fileURLToPath(new URL('../../../../shared/fixtures/', import.meta.url));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe('kontor statement inspect', () => {
  it('prints account (masked), period, balances, entry count and the balance check', async () => {
    const c = capture();
    const code = await inspectStatementFile(
      `${fixtures}camt053/viafintech-camt__053_valid_example.xml`,
      {},
      c.output,
    );
    assert.equal(code, 0);
    const text = c.out.join('');
    assert.match(text, /account: {2}DE14\*+3626 EUR/);
    assert.match(text, /period: {3}2013-12-27 … 2013-12-27/);
    assert.match(text, /entries: {2}4/);
    assert.match(text, /check: {4}balanced/);
  });

  it('prints canonical JSON with decimal-string amounts', async () => {
    const c = capture();
    await inspectStatementFile(`${fixtures}mt940/myflow-mt940__sample.sta`, { json: true }, c.output);
    const json = JSON.parse(c.out.join('')) as { lines: { amount: { amount: string } }[] }[];
    assert.equal(typeof json[0]!.lines[0]!.amount.amount, 'string');
  });

  it('exits 1 with the reason when a statement does not balance', async () => {
    const c = capture();
    const code = await inspectStatementFile(`${fixtures}mt940/zilverline__knab_knab_pin.txt`, {}, c.output);
    assert.equal(code, 1);
    assert.match(c.err.join(''), /STATEMENT_UNBALANCED/);
  });

  it('throws the typed error for a rejected file', async () => {
    await assert.rejects(
      inspectStatementFile(`${fixtures}camt053/viafintech-camt__invalid_namespace.xml`, {}, capture().output),
      (e: unknown) => {
        assert.ok(e instanceof StatementParseError);
        assert.equal(e.code, ErrorCodes.STATEMENT_PARSE_FAILED);
        return true;
      },
    );
  });

  it('reads a CSV with the csvProfile of the configured account, or a --profile file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kontor-inspect-'));
    try {
      const file = join(dir, 'nov.csv');
      writeFileSync(file, 'Datum;Betrag;Text\n01.11.2026;10,50;a\n02.11.2026;-2,25;b\n');
      const profile = {
        delimiter: ';',
        dateFormat: 'DD.MM.YYYY',
        decimalSeparator: ',',
        currency: 'EUR',
        columns: { bookingDate: 'Datum', amount: 'Betrag' },
      };
      const loadedConfig = parseConfig(
        [
          'entities: [{id: demo, name: Demo, country: DE, baseCurrency: EUR}]',
          'bankAccounts:',
          `  - {id: csv-eur, entity: demo, iban: DE89370400440532013000, currency: EUR, odooJournal: BNK1, csvProfile: ${JSON.stringify(profile)}}`,
          '  - {id: plain, entity: demo, accountNumber: "123", currency: EUR, odooJournal: BNK1}',
        ].join('\n'),
      );
      const c = capture();
      assert.equal(await inspectStatementFile(file, { account: 'csv-eur', loadedConfig }, c.output), 0);
      assert.match(c.out.join(''), /account: {2}DE89\*+3000 EUR/);
      assert.match(c.out.join(''), /entries: {2}2/);

      const profileFile = join(dir, 'profile.yaml');
      writeFileSync(profileFile, JSON.stringify(profile));
      const p = capture();
      assert.equal(await inspectStatementFile(file, { profile: profileFile, json: true }, p.output), 0);
      const json = JSON.parse(p.out.join('')) as { lines: { amount: { amount: string } }[] }[];
      assert.deepEqual(
        json[0]!.lines.map((l) => l.amount.amount),
        ['10.50', '-2.25'],
      );

      for (const [options, message] of [
        [{ account: 'plain', loadedConfig }, /plain has no csvProfile/],
        [{ account: 'nope', loadedConfig }, /no bank account "nope"/],
        [{}, /needs --account ID/],
      ] as const) {
        await assert.rejects(inspectStatementFile(file, options, capture().output), message);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

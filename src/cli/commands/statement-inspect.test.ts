import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
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
});

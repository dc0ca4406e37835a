import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ErrorCodes, formatMoney } from '../../domain/index.ts';
import { fixtureDir, listFixtures } from '../__fixtures__/fixtures.ts';
import { checkBalance } from '../balance-check.ts';
import { StatementParseError } from '../errors.ts';
import { collectStatements, summarizeStatement } from '../events.ts';
import { readMt940Events } from './parse.ts';

/** Fixtures that must be rejected: negative samples, snippets that are no statement, and bank data errors. */
const REJECTED: Record<string, RegExp> = {
  // NEGATIVE samples (PROVENANCE.md)
  'oca-bsi__test-wrong-file.940': /unknown tag :9401: \(line 1\)/,
  'wolph-mt940__betterplace_sepa_snippet_broken.sta':
    /:25: \(account\) after the statement lines.*\(line 10\)/,
  'wolph-mt940__self-provided_invalid_statement.sta': /no MT940\/MT942 statement found/,
  'zilverline__knab_knab_invalid.txt': /statement ABG34MSFKJ11FACJ ends without a closing balance/,
  // Snippets without the mandatory :20:/:25:/:60F:/:62F: frame
  'wolph-mt940__betterplace_amount_formats.sta': /ends without a closing balance/,
  'wolph-mt940__betterplace_empty_entry_date.sta': /:61: before any opening balance/,
  'wolph-mt940__betterplace_empty_line.sta': /statement TELEREPORTING ends without a closing balance/,
  'wolph-mt940__betterplace_missing_crlf_at_end.sta': /has no account \(:25:\)/,
  'wolph-mt940__cmxl_statement_details.sta': /:61: before any opening balance/,
  'myflow-mt940__sepa_snippet_broken_2.sta': /ends without a closing balance/,
  'myflow-mt940__sepa_snippet_broken_3.sta': /ends without a closing balance/,
  'wolph-mt940__self-provided_gv_codes.sta': /statement STARTUMS ends without a closing balance/,
  'mt940rs__special-cases_unexpected_tag.sta': /statement STARTUMSE has no account \(:25:\)/,
  // Bank data errors: a truncated file, a date that does not exist, a withdrawn currency
  'fruitl00p-mt940__Rabo_sample2.sta': /statement 940A030108 ends without a closing balance/,
  'jejik-mt940__K4262927_20200905-080000-952.txt': /ends without a closing balance/,
  'jejik-mt940__oldenburgischelandesbank2.txt': /ends without a closing balance/,
  'wolph-mt940__self-provided_february_30.sta': /2016-02-30 is not a calendar date \(line 6\)/,
  'wolph-mt940__self-provided_transaction_details_wrapped.sta': /2016-02-30 is not a calendar date/,
  'wolph-mt940__self-provided_wrapped_timestamp.sta': /2016-02-30 is not a calendar date/,
  'mt940js__base-1.mta': /unknown currency "DEM"/,
  'wolph-mt940__self-provided_raphaelm.sta': /unknown currency "DEM"/,
};

/** Files whose sample data do not balance (opening + booked ≠ closing): the check must report it. */
const UNBALANCED = new Set([
  'fruitl00p-mt940__Abn_sample2.sta',
  'fruitl00p-mt940__Ing_sample.sta',
  'fruitl00p-mt940__Knab_sample.sta',
  'fruitl00p-mt940__Knab_sample3.sta',
  'fruitl00p-mt940__Rabo_sample3.sta',
  'fruitl00p-mt940__Rabo_sample4.sta',
  'jejik-mt940__bug-core-5401.txt',
  'jejik-mt940__ing-dos.txt',
  'jejik-mt940__knab.txt',
  'jejik-mt940__oldenburgischelandesbank.txt',
  'mt940js__abn-amro-1.STA',
  'mt940rs__abnamro_mt940.sta',
  'myflow-mt940__sepa_snippet_broken_4.sta',
  'wolph-mt940__betterplace_sepa_snippet.sta',
  'wolph-mt940__jejik_abnamro.sta',
  'wolph-mt940__jejik_ing.sta',
  'wolph-mt940__jejik_knab.sta',
  'wolph-mt940__jejik_rabobank.sta',
  'wolph-mt940__mBank_with_newline_in_tnr.sta',
  'wolph-mt940__self-provided_details_60-63.sta',
  'wolph-mt940__self-provided_malformed_details.sta',
  'wolph-mt940__self-provided_overly_long_details.sta',
  'wolph-mt940__self-provided_whitespace.sta',
  'zilverline__14aug2014.swi',
  'zilverline__abn_abn_sepa_incasso_doorlopend.txt',
  'zilverline__abn_abn_structured_sepa_acceptgiro.txt',
  'zilverline__abn_abn_structured_sepa_ideal.txt',
  'zilverline__abn_abnamro_structured.txt',
  'zilverline__abn_anb_sepa_overboeking_belastingdienst.txt',
  'zilverline__deutsche_bank.txt',
  'zilverline__ing_eu_incasso_foreign_transaction.txt',
  'zilverline__knab_knab_pin.txt',
  'zilverline__rabobank_mt940_structured_multi_line.txt',
  'zilverline__triodos_multiline_bug.txt',
  'zilverline__unknown.txt',
]);

async function parse(input: string | Uint8Array | Iterable<Uint8Array>) {
  return collectStatements(readMt940Events(input));
}

describe('MT940/MT942 fixtures', () => {
  for (const file of listFixtures('mt940', readdirSync)) {
    const reason = REJECTED[file];
    if (reason !== undefined) {
      it(`rejects ${file} with a reason`, async () => {
        await assert.rejects(parse(readFileSync(fixtureDir('mt940') + file)), (e: unknown) => {
          assert.ok(e instanceof StatementParseError, String(e));
          assert.match(e.message, reason);
          assert.ok(e.location.line !== undefined, 'the error names the line');
          return true;
        });
      });
      continue;
    }
    it(`parses ${file}${UNBALANCED.has(file) ? ' and reports that it does not balance' : ' and it balances'}`, async () => {
      const statements = await parse(readFileSync(fixtureDir('mt940') + file));
      assert.ok(statements.length > 0);
      const checks = statements.map((s) => checkBalance(summarizeStatement(s)));
      const unbalanced = checks.filter((c) => c.status === 'unbalanced');
      if (UNBALANCED.has(file)) {
        assert.ok(unbalanced.length > 0);
        for (const c of unbalanced) assert.equal(c.error.code, ErrorCodes.STATEMENT_UNBALANCED);
      } else {
        assert.deepEqual(unbalanced, []);
      }
    });
  }
});

describe('MT940 dialects', () => {
  it('reads German ?-subfields: booking text, purpose, counterparty name and IBAN', async () => {
    const [s] = await parse(readFileSync(`${fixtureDir('mt940')}wolph-mt940__betterplace_sepa_snippet.sta`));
    const line = s!.lines.find((l) => l.counterparty?.name !== undefined)!;
    assert.ok(line.remittanceInfo !== undefined && line.remittanceInfo.length > 0);
    assert.ok(line.bookingText !== undefined);
  });

  it('reads Dutch /TRTP/ /IBAN/ /NAME/ /REMI/ codes', async () => {
    const [s] = await parse(readFileSync(`${fixtureDir('mt940')}zilverline__abn_abnamro_structured.txt`));
    const line = s!.lines.find((l) => l.bookingText === 'SEPA OVERBOEKING')!;
    assert.deepEqual(line.counterparty, {
      name: 'FOOBAR',
      accountNumber: 'NL25ABNA0987654321',
      bic: 'ABNANL2A',
    });
    assert.equal(line.remittanceInfo, 'SAVINGS');
  });

  it('reads IBAN accounts written with spaces or a glued currency', async () => {
    for (const written of [
      'NL34 RABO 0142 6233 93',
      'NL34RABO0142623393EUR',
      'NL34RABO0142623393 EUR',
      'RABONL2U/NL34RABO0142623393',
    ]) {
      const [s] = await parse(`:20:X\n:25:${written}\n:60F:C240101EUR0,\n:62F:C240101EUR0,\n-\n`);
      assert.equal(s!.account.iban, 'NL34RABO0142623393', written);
    }
  });

  it('parses the mark, the entry date across a year boundary and comma amounts exactly', async () => {
    const text =
      ':20:X\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C231231EUR100,\n:61:2401011231D12,34NTRFNONREF//B1\n:86:text\n:62F:C240101EUR87,66\n-\n';
    const [s] = await parse(text);
    const line = s!.lines[0]!;
    assert.equal(line.valueDate, '2024-01-01');
    assert.equal(line.bookingDate, '2023-12-31');
    assert.equal(formatMoney(line.amount), '-12.34');
    assert.equal(checkBalance(summarizeStatement(s!)).status, 'balanced');
  });

  it('decodes cp1252 and CRLF, line by line', async () => {
    const text =
      ':20:X\r\n:25:12345678/99\r\n:60F:C240101EUR0,00\r\n:61:240101C1,00NTRFNONREF\r\n:86:M\xfcller Stra\xdfe\r\n:62F:C240101EUR1,00\r\n-\r\n';
    const bytes = Uint8Array.from([...text].map((c) => c.charCodeAt(0)));
    const [s] = await parse(bytes);
    assert.equal(s!.lines[0]!.remittanceInfo, 'Müller Straße');
  });

  it('gives the same result however the input is chunked', async () => {
    const bytes = readFileSync(`${fixtureDir('mt940')}zilverline__rabobank_mt940_structured.txt`);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 5) chunks.push(bytes.subarray(i, i + 5));
    assert.deepEqual(await parse(chunks), await parse(bytes));
  });

  it('rejects a malformed amount with its line', async () => {
    const text =
      ':20:X\n:25:12345678/99\n:60F:C240101EUR0,00\n:61:240101C1,0,0NTRFNONREF\n:62F:C240101EUR1,00\n-\n';
    await assert.rejects(
      parse(text),
      (e: unknown) => e instanceof StatementParseError && e.location.line === 4,
    );
  });

  it('rejects a file over the size limit', async () => {
    await assert.rejects(
      collectStatements(readMt940Events(':20:X\n'.repeat(100), { maxBytes: 64 })),
      (e: unknown) => e instanceof StatementParseError && e.code === ErrorCodes.FILE_TOO_LARGE,
    );
  });
});

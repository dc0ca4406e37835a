import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixtureDir, listFixtures } from './__fixtures__/fixtures.ts';
import { detectFormat, formatStatementsJson, parseStatements } from './index.ts';

const GOLDEN = [
  ['camt053', 'viafintech-camt__053_valid_example.xml', 'camt'],
  ['camt053', 'oca-bsi__test-camt053-txdtls.xml', 'camt'],
  ['camt052', 'hbci4j__test-camt-parse-05200108.xml', 'camt'],
  ['camt054', 'dvbern__camt_054_Beispiel_SammelbuchungEs.xml', 'camt'],
  ['mt940', 'myflow-mt940__sample.sta', 'mt940'],
  ['mt940', 'zilverline__rabobank_mt940_structured.txt', 'mt940'],
  ['mt940', 'myflow-mt940__mt942.sta', 'mt940'],
] as const;

describe('detectFormat', () => {
  for (const [kind, format] of [
    ['camt053', 'camt'],
    ['camt052', 'camt'],
    ['camt054', 'camt'],
  ] as const) {
    it(`detects every ${kind} fixture as ${format}`, () => {
      for (const file of listFixtures(kind, readdirSync)) {
        if (file.includes('NotificationMissing')) continue;
        assert.equal(detectFormat(readFileSync(fixtureDir(kind) + file).subarray(0, 4096)), format, file);
      }
    });
  }

  it('detects MT940 fixtures that hold statements', () => {
    const skip = new Set([
      'wolph-mt940__self-provided_invalid_statement.sta',
      'wolph-mt940__betterplace_amount_formats.sta',
    ]);
    for (const file of listFixtures('mt940', readdirSync)) {
      if (skip.has(file)) continue;
      assert.equal(detectFormat(readFileSync(fixtureDir('mt940') + file).subarray(0, 4096)), 'mt940', file);
    }
  });

  it('detects CSV by its delimited first line', () => {
    assert.equal(detectFormat(readFileSync(`${fixtureDir('csv')}ofxst-dutch__ing_ok.csv`)), 'csv');
  });

  it('returns undefined for unknown input', () => {
    assert.equal(detectFormat('hello world'), undefined);
  });
});

describe('golden canonical JSON', () => {
  for (const [kind, file, format] of GOLDEN) {
    it(`matches the snapshot of ${file}`, async () => {
      const json = formatStatementsJson(await parseStatements(format, readFileSync(fixtureDir(kind) + file)));
      const golden = fileURLToPath(new URL(`./__fixtures__/golden/${file}.json`, import.meta.url));
      if (process.env.KONTOR_UPDATE_GOLDEN === '1') writeFileSync(golden, json);
      assert.equal(json, readFileSync(golden, 'utf8'));
    });
  }
});

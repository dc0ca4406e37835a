import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compileXsd, validateXml } from './validate.ts';

const XSD = readFileSync(
  new URL('../../../../../shared/fixtures/xsd/hbci4j__pain.002.001.03.xsd', import.meta.url),
  'utf8',
);
const PAIN002 = readFileSync(
  new URL('../../../../../shared/fixtures/pain002/oca-ap__test-sepa-unpaid.xml', import.meta.url),
  'utf8',
);

void describe('validateXml', () => {
  void it('accepts a real pain.002.001.03 file against its XSD', () => {
    assert.deepEqual(validateXml(PAIN002, XSD), { ok: true, value: undefined });
  });

  void it('reports a schema violation with the element and line', () => {
    const result = validateXml(PAIN002.replace(/<TxSts>RJCT<\/TxSts>/, '<TxSts>NOPE!</TxSts>'), XSD);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.error.kind, 'invalid');
    assert.equal(result.error.code, 'XML_SCHEMA_INVALID');
    assert.match(result.error.message, /TxSts/);
    assert.ok((result.error.issues[0]?.line ?? 0) > 1);
  });

  void it('reports a document that is not well-formed', () => {
    const result = validateXml('<Document><a></Document>', XSD);
    assert.equal(result.ok || result.error.kind, 'not-well-formed');
  });

  void it('reports an unusable schema instead of throwing', () => {
    const result = validateXml(PAIN002, '<xs:schema xmlns:xs="nope">');
    assert.equal(result.ok || result.error.kind, 'schema-unusable');
  });

  void it('does not expand external entities (XXE) while validating', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">&x;</Document>`;
    const result = validateXml(xxe, XSD);
    assert.equal(result.ok, false);
    if (!result.ok) assert.doesNotMatch(JSON.stringify(result.error), /root:/);
  });

  void it('refuses to validate after dispose, and dispose may be called twice', () => {
    const compiled = compileXsd(XSD);
    assert.equal(compiled.validate(PAIN002).ok, true);
    compiled.dispose();
    compiled.dispose();
    assert.equal(compiled.validate(PAIN002).ok, false);
  });
});

void describe('validateXml on the pain.001.001.03 fixtures', () => {
  const dir = new URL('../../../../../shared/fixtures/pain001/', import.meta.url);
  const xsd03 = readFileSync(
    new URL('../../../../../shared/fixtures/xsd/oca-bp__pain.001.001.03.xsd', import.meta.url),
    'utf8',
  );
  // Cross River's files have stray text in <Document>, Goldman's keep the "YYYY-MM-DD" placeholder: banks would refuse them too.
  const invalid = new Set([
    'iso20022js__cross_river_pain_001_ach_credit.xml',
    'iso20022js__cross_river_pain_001_rtp_credit.xml',
    'iso20022js__goldman_sachs_pain_001_ach_credit.xml',
    'iso20022js__goldman_sachs_pain_001_v3_sepa.xml',
  ]);
  void it('accepts the valid ones and names the fault in the others', async () => {
    const { readdirSync } = await import('node:fs');
    const compiled = compileXsd(xsd03);
    try {
      let seen = 0;
      for (const name of readdirSync(dir)) {
        const xml = readFileSync(new URL(name, dir), 'utf8');
        if (!xml.includes('xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"')) continue;
        seen += 1;
        const result = compiled.validate(xml);
        assert.equal(result.ok, !invalid.has(name), `${name}: ${result.ok ? 'valid' : result.error.message}`);
        if (!result.ok) assert.match(result.error.message, /Document|ReqdExctnDt/);
      }
      assert.equal(seen, 12);
    } finally {
      compiled.dispose();
    }
  });
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { type PaymentOrder, paymentOrderSchema, ValidationError } from '../../../domain/index.ts';
import { compileXsd, validateXml } from '../xsd/index.ts';
import { isSepaText } from './sepa-charset.ts';
import { type Pain001Version, writePain001, writePain001WithSummary } from './write.ts';

const XSD_DIR = new URL('../../../../../shared/fixtures/xsd/', import.meta.url);
const XSD: Record<Pain001Version, string> = {
  'pain.001.001.09': readFileSync(new URL('sepaxml__pain.001.001.09.xsd', XSD_DIR), 'utf8'),
  'pain.001.001.03': readFileSync(new URL('oca-bp__pain.001.001.03.xsd', XSD_DIR), 'utf8'),
};
const NOW = new Date(1_700_000_000_000);
const DEBTOR = { name: 'Kontor Demo GmbH', iban: 'DE02 1203 0000 0000 2020 51', bic: 'BYLADEM1001' };

function makeOrder(lines: Record<string, unknown>[], currency = 'EUR'): PaymentOrder {
  return paymentOrderSchema.parse({
    id: 'ORD-2026-0001',
    entityId: 'de-gmbh',
    debtorAccountId: 'acct-1',
    executionDate: '2026-12-01',
    currency,
    state: 'approved',
    createdBy: 'alice',
    lines: lines.map((l, i) => ({
      endToEndId: `E2E-${i + 1}`,
      vendorId: `v${i + 1}`,
      vendorName: 'ACME Supplies',
      creditorIban: 'DE89370400440532013000',
      amount: { amount: '100.00', currency },
      invoiceIds: [`BILL/2026/${i + 1}`],
      ...l,
    })),
  });
}

const AWKWARD = makeOrder([
  {
    vendorName: 'Müller & Söhne — Straße 5 €',
    remittance: 'Rechnung 4711 für März <b>"urgent"</b> 😀',
    creditorBic: 'COBADEFFXXX',
    amount: { amount: '1234.56', currency: 'EUR' },
  },
  { vendorName: 'ООО «Ромашка»', remittance: 'Счёт № 15 🧾', amount: { amount: '0.01', currency: 'EUR' } },
  {
    vendorName: '🙂 Smiley Ltd 株式会社',
    creditorReference: 'RF18 5390 0754 7034',
    amount: { amount: '999999999.99', currency: 'EUR' },
  },
  { vendorName: 'Plain', creditorReference: 'INV-77', remittance: 'x'.repeat(140) },
]);

function textsOf(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
}

function unescape(text: string): string {
  return text
    .replace(/&apos;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

void describe('writePain001', () => {
  for (const version of ['pain.001.001.09', 'pain.001.001.03'] as const) {
    void it(`writes a ${version} file that validates against the official XSD, with names and remittance outside the SEPA set`, () => {
      const xml = writePain001(AWKWARD, DEBTOR, { version, creationDateTime: NOW });
      const result = validateXml(xml, XSD[version]);
      assert.deepEqual(result, { ok: true, value: undefined }, JSON.stringify(result));
      for (const tag of ['Nm', 'Ustrd'])
        for (const t of textsOf(xml, tag)) assert.ok(isSepaText(unescape(t)), `${tag} "${t}" is SEPA text`);
    });
  }

  void it('defaults to pain.001.001.09', () => {
    const xml = writePain001(AWKWARD, DEBTOR, { creationDateTime: NOW });
    assert.match(xml, /xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/);
    assert.match(xml, /<ReqdExctnDt>\s*<Dt>2026-12-01<\/Dt>/);
    assert.match(xml, /<BICFI>BYLADEM1001<\/BICFI>/);
  });

  void it('writes the exact CtrlSum and NbOfTxs at group and payment-info level', () => {
    const { xml, summary } = writePain001WithSummary(AWKWARD, DEBTOR, { creationDateTime: NOW });
    assert.equal(summary.controlSum, '1000001334.56');
    assert.deepEqual(textsOf(xml, 'CtrlSum'), ['1000001334.56', '1000001334.56']);
    assert.deepEqual(textsOf(xml, 'NbOfTxs'), ['4', '4']);
  });

  void it('is deterministic: the same order, debtor and time give the same bytes', () => {
    const a = writePain001(AWKWARD, DEBTOR, { creationDateTime: NOW });
    const b = writePain001(AWKWARD, DEBTOR, { creationDateTime: new Date(NOW.getTime()) });
    assert.equal(a, b);
    assert.match(a, /<CreDtTm>2023-11-14T22:13:20Z<\/CreDtTm>/);
  });

  void it('uses the ids passed in for MsgId, PmtInfId and EndToEndId', () => {
    const xml = writePain001(AWKWARD, DEBTOR, {
      creationDateTime: NOW,
      messageId: 'MSG-1',
      paymentInfoId: 'PMT-1',
    });
    assert.deepEqual(textsOf(xml, 'MsgId'), ['MSG-1']);
    assert.deepEqual(textsOf(xml, 'PmtInfId'), ['PMT-1']);
    assert.deepEqual(textsOf(xml, 'EndToEndId'), ['E2E-1', 'E2E-2', 'E2E-3', 'E2E-4']);
  });

  void it('writes a valid RF reference as structured SCOR and everything else as at most 140 characters of Ustrd', () => {
    const xml = writePain001(AWKWARD, DEBTOR, { creationDateTime: NOW });
    assert.match(xml, /<Cd>SCOR<\/Cd>[\s\S]*<Ref>RF18539007547034<\/Ref>/);
    const ustrd = textsOf(xml, 'Ustrd');
    assert.equal(ustrd.length, 3);
    assert.ok(ustrd.every((u) => unescape(u).length <= 140));
    assert.ok(ustrd[2]?.startsWith('INV-77 xxx'));
  });

  void it('transliterates and escapes, so markup in a name never becomes markup', () => {
    const xml = writePain001(AWKWARD, DEBTOR, { creationDateTime: NOW });
    assert.deepEqual(textsOf(xml, 'Nm').slice(2), [
      'Mueller + Soehne - Strasse 5 E',
      'OOO &apos;Romashka&apos;',
      'Smiley Ltd',
      'Plain',
    ]);
    assert.match(xml, /fuer Maerz \(b\)&apos;urgent&apos;\(\/b\)/);
  });

  void it('writes NOTPROVIDED for a debtor without BIC and omits the creditor agent without BIC', () => {
    const xml = writePain001(
      AWKWARD,
      { name: 'X', iban: DEBTOR.iban },
      { creationDateTime: NOW, version: 'pain.001.001.03' },
    );
    assert.match(xml, /<DbtrAgt>\s*<FinInstnId>\s*<Othr>\s*<Id>NOTPROVIDED<\/Id>/);
    assert.equal((xml.match(/<CdtrAgt>/g) ?? []).length, 1);
    assert.equal(validateXml(xml, XSD['pain.001.001.03']).ok, true);
  });

  void it('rejects duplicate EndToEndIds, bad ids, a bad RF reference and non-positive amounts, naming each', () => {
    const order = makeOrder([
      { endToEndId: 'A//B' },
      { endToEndId: 'SAME' },
      { endToEndId: 'SAME', creditorReference: 'RF19539007547034' },
      { amount: { amount: '0.00', currency: 'EUR' } },
    ]);
    assert.throws(
      () => writePain001(order, DEBTOR, { creationDateTime: NOW, messageId: '/bad' }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.equal(e.code, 'PAYMENT_FILE_INVALID');
        assert.deepEqual(
          e.issues.map((i) => i.path),
          [
            'messageId',
            'lines.0.endToEndId',
            'lines.2.endToEndId',
            'lines.2.creditorReference',
            'lines.3.amount',
          ],
        );
        return true;
      },
    );
  });

  void it('rejects a line in another currency and an amount above the SEPA maximum', () => {
    const order = makeOrder([{ amount: { amount: '1000000000.00', currency: 'EUR' } }]);
    assert.throws(() => writePain001(order, DEBTOR, { creationDateTime: NOW }), /SEPA maximum/);
    const mixed = {
      ...makeOrder([{}]),
      lines: [{ ...makeOrder([{}]).lines[0]!, amount: { amount: 100n, currency: 'USD' } }],
    } as PaymentOrder;
    assert.throws(
      () => writePain001(mixed, DEBTOR, { creationDateTime: NOW }),
      /USD but the order is in EUR/,
    );
  });

  void it('rejects a name with nothing representable in the SEPA set', () => {
    assert.throws(
      () => writePain001(makeOrder([{ vendorName: '株式会社' }]), DEBTOR, { creationDateTime: NOW }),
      /lines.0.vendorName/,
    );
  });

  void it('writes a non-EUR order without the SEPA service level, still XSD-valid', () => {
    const xml = writePain001(makeOrder([{}], 'CHF'), DEBTOR, { creationDateTime: NOW });
    assert.doesNotMatch(xml, /SEPA|SLEV/);
    assert.equal(validateXml(xml, XSD['pain.001.001.09']).ok, true);
  });

  void it('validates many generated files with one compiled schema', () => {
    const compiled = compileXsd(XSD['pain.001.001.09']);
    try {
      for (let n = 1; n <= 20; n += 1) {
        const order = makeOrder(
          Array.from({ length: n }, (_, i) => ({
            amount: { amount: `${i + 1}.0${i % 10}`, currency: 'EUR' },
          })),
        );
        assert.equal(compiled.validate(writePain001(order, DEBTOR, { creationDateTime: NOW })).ok, true);
      }
    } finally {
      compiled.dispose();
    }
  });
});

void describe('pain.001 and xmllint', () => {
  const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
  // A second, independent validator (Debian's xmllint) must agree with libxml2-wasm on our output.
  void it(
    'passes xmllint --schema for both versions',
    { skip: hasXmllint ? false : 'xmllint not installed' },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'kontor-pain001-'));
      try {
        for (const [version, xsdName] of [
          ['pain.001.001.09', 'sepaxml__pain.001.001.09.xsd'],
          ['pain.001.001.03', 'oca-bp__pain.001.001.03.xsd'],
        ] as const) {
          const file = join(dir, `${version}.xml`);
          writeFileSync(file, writePain001(AWKWARD, DEBTOR, { version, creationDateTime: NOW }));
          const run = spawnSync(
            'xmllint',
            ['--noout', '--schema', fileURLToPath(new URL(xsdName, XSD_DIR)), file],
            { encoding: 'utf8' },
          );
          assert.equal(run.status, 0, run.stderr);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

void describe('pain.001 fixtures', () => {
  const dir = new URL('../../../../../shared/fixtures/pain001/', import.meta.url);
  // iso20022.js's multiple-PmtInf example copies the GrpHdr of its one-PmtInf sibling (NbOfTxs 1,
  // CtrlSum 10.00 over two 10.00 transfers): a bank would reject it, and our check says so.
  void it('our CtrlSum rule (exact decimal sum of InstdAmt) holds for the SEPA fixtures, except the one known-inconsistent file', async () => {
    const { readdirSync } = await import('node:fs');
    const { parseMoney, formatMoney, sum } = await import('../../../domain/index.ts');
    let checked = 0;
    const inconsistent: string[] = [];
    for (const name of readdirSync(dir)) {
      const xml = readFileSync(new URL(name, dir), 'utf8');
      const ctrl = /<GrpHdr>[\s\S]*?<CtrlSum>([^<]+)<\/CtrlSum>/.exec(xml)?.[1];
      const amounts = [...xml.matchAll(/<InstdAmt Ccy="EUR">([^<]+)<\/InstdAmt>/g)].map((m) =>
        parseMoney(m[1] ?? '', 'EUR'),
      );
      const allEur = [...xml.matchAll(/<InstdAmt Ccy="([A-Z]{3})">/g)].every((m) => m[1] === 'EUR');
      if (ctrl === undefined || amounts.length === 0 || !allEur) continue;
      if (formatMoney(sum(amounts, 'EUR')) !== formatMoney(parseMoney(ctrl, 'EUR'))) inconsistent.push(name);
      checked += 1;
    }
    assert.ok(checked >= 5, `checked ${checked} fixtures`);
    assert.deepEqual(inconsistent, ['iso20022js__example_sepa_pain_001_v3_multiple_pmtinf.xml']);
  });
});

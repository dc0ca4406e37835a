// Payment-run benchmark: 10,000 bills in one order → pain.001.001.09 file, then XSD validation of
// that file with libxml2-wasm (in process) and with xmllint (a subprocess), all in one run.
// Prints one JSON line. BENCH_N changes the number of bills.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PaymentOrder, paymentOrderSchema } from '../../src/domain/index.ts';
import { writePain001 } from '../../src/formats/iso20022/pain001/index.ts';
import { compileXsd } from '../../src/formats/iso20022/xsd/index.ts';

const N = Number(process.env.BENCH_N ?? 10_000);
const here = dirname(fileURLToPath(import.meta.url));
const XSD_PATH = join(here, '../../../shared/fixtures/xsd/sepaxml__pain.001.001.09.xsd');
const OUT_DIR = join(here, '../out');
const IBANS = [
  'DE89370400440532013000',
  'FR1420041010050500013M02606',
  'NL91ABNA0417164300',
  'AT611904300234573201',
  'ES9121000418450200051332',
];
const NAMES = [
  'Müller & Söhne GmbH',
  'Société Générale Fournitures',
  'ООО Ромашка',
  'Bäckerei Groß — Filiale 5',
  'ACME Supplies Ltd',
];

function time<T>(fn: () => T): { ms: number; result: T } {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return { ms: Math.round((Number(process.hrtime.bigint() - t0) / 1e6) * 100) / 100, result };
}

function makeOrder(n: number): PaymentOrder {
  return paymentOrderSchema.parse({
    id: 'BENCH-ORDER-1',
    entityId: 'de-gmbh',
    debtorAccountId: 'acct-1',
    executionDate: '2026-12-01',
    currency: 'EUR',
    state: 'approved',
    createdBy: 'bench',
    lines: Array.from({ length: n }, (_, i) => ({
      endToEndId: `BENCH-${String(i + 1).padStart(6, '0')}`,
      vendorId: `v${i % 997}`,
      vendorName: `${NAMES[i % NAMES.length]} ${i}`,
      creditorIban: IBANS[i % IBANS.length],
      ...(i % 3 === 0 ? { creditorBic: 'COBADEFFXXX' } : {}),
      amount: {
        amount: `${(i * 7919) % 100_000}.${String(i % 100).padStart(2, '0')}`.replace(/^0\.00$/, '0.01'),
        currency: 'EUR',
      },
      ...(i % 4 === 0
        ? { creditorReference: 'RF18539007547034' }
        : { remittance: `Rechnung ${i} für März 😀` }),
      invoiceIds: [`BILL/2026/${i + 1}`],
    })),
  });
}

const debtor = { name: 'Kontor Demo GmbH', iban: 'DE02120300000000202051', bic: 'BYLADEM1001' };
const options = {
  creationDateTime: new Date(Date.UTC(2026, 10, 22, 8, 0, 0)),
  messageId: 'BENCH-MSG-1',
  paymentInfoId: 'BENCH-PMT-1',
};
const xsdText = readFileSync(XSD_PATH, 'utf8');

// Warm up the JIT and the WASM module on a small order, so the timings below are steady-state.
const warm = compileXsd(xsdText);
warm.validate(writePain001(makeOrder(10), debtor, options));
warm.dispose();

const build = time(() => makeOrder(N));
const write = time(() => writePain001(build.result, debtor, options));
// The first write pays for collecting the order's parse garbage and tiering up; report the median of three more too.
const rewrites = [0, 1, 2]
  .map(() => time(() => writePain001(build.result, debtor, options)).ms)
  .sort((a, b) => a - b);
const xml = write.result;
const compile = time(() => compileXsd(xsdText));
const wasm = time(() => compile.result.validate(xml));
compile.result.dispose();
if (!wasm.result.ok) throw new Error(`generated file is not XSD-valid: ${wasm.result.error.message}`);

mkdirSync(OUT_DIR, { recursive: true });
const file = join(OUT_DIR, `pain001-${N}.xml`);
writeFileSync(file, xml);
let xmllint: { ms: number; ok: boolean } | { skipped: string };
const probe = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
if (probe.error === undefined && probe.status === 0) {
  const run = time(() => spawnSync('xmllint', ['--noout', '--schema', XSD_PATH, file], { encoding: 'utf8' }));
  xmllint = { ms: run.ms, ok: run.result.status === 0 };
} else {
  xmllint = { skipped: 'xmllint not installed (apt-get install -y libxml2-utils)' };
}

console.log(
  JSON.stringify({
    bench: 'payments',
    bills: N,
    fileBytes: Buffer.byteLength(xml),
    buildOrderMs: build.ms,
    writePain001Ms: write.ms,
    writePain001MedianOfNext3Ms: rewrites[1],
    xsdCompileMs: compile.ms,
    libxml2WasmValidateMs: wasm.ms,
    libxml2WasmValid: wasm.result.ok,
    xmllint,
    node: process.version,
  }),
);

// Payment-run flow benchmark: BENCH_N (default 10,000) open bills of distinct vendors through the
// real flow on an embedded PGlite store — propose (one order), submit, two approvals, release
// (pain.001 written, XSD-validated, put into a folder channel). Prints one JSON line of timings.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordAudit } from '../../src/audit/index.ts';
import { money, type OpenVendorBill, type VendorPayables } from '../../src/domain/index.ts';
import { publish } from '../../src/events/index.ts';
import * as run from '../../src/flows/payment-run/index.ts';
import { approvalPolicySchema } from '../../src/policy/approval/index.ts';
import { migrate, openPglite } from '../../src/store/index.ts';

const N = Number(process.env.BENCH_N ?? 10_000);
const here = dirname(fileURLToPath(import.meta.url));
const xsd = readFileSync(join(here, '../../../shared/fixtures/xsd/sepaxml__pain.001.001.09.xsd'), 'utf8');

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  return { ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e4) / 100, result };
}

const bills: OpenVendorBill[] = Array.from({ length: N }, (_, i) => ({
  billId: String(i + 1),
  number: `BILL/2026/${String(i + 1).padStart(6, '0')}`,
  vendorId: String(1000 + i),
  vendorName: `Müller & Söhne GmbH ${i}`,
  amountDue: money(BigInt(1000 + (i % 5000) * 7), 'EUR'),
  billDate: '2026-11-01',
  dueDate: '2026-11-15',
  paymentReference: `INV-${i}`,
  vendorIban: 'DE89370400440532013000',
  vendorCreatedAt: new Date('2020-01-01T00:00:00Z'),
}));
const payables: VendorPayables = {
  listOpenVendorBills: async () => bills,
  registerVendorPayment: async () => ({ paymentId: 1 }),
};
const dir = mkdtempSync(join(tmpdir(), 'kontor-bench-payrun-'));
const db = await openPglite();
await migrate(db);
let k = 0;
const deps: run.PaymentRunDeps = {
  db,
  accounts: [
    {
      id: 'acct',
      entity: 'ent',
      iban: 'DE89370400440532013000',
      currency: 'EUR',
      odooJournal: 'BNK1',
      painVersion: 'pain.001.001.09',
    },
  ],
  entities: [{ id: 'ent', name: 'Kontor Bench GmbH', odooCompanyId: 1 }],
  payables,
  policy: approvalPolicySchema.parse({ bands: [{ currency: 'EUR', from: '0', approvals: 2 }] }),
  channelFor: () => run.createFolderChannel(dir),
  xsd: { 'pain.001.001.09': xsd },
  publish: (tx, e) => publish(tx, e),
  audit: (tx, e) => recordAudit(tx, e),
  clock: { now: () => new Date() },
  ids: { next: () => `BENCH-${++k}` },
};
try {
  const propose = await timed(() =>
    run.proposePaymentOrder(deps, { bankAccountId: 'acct', dueBy: '2026-11-30', actor: 'clerk' }),
  );
  const orderId = propose.result.orderId;
  const approve = await timed(async () => {
    await run.submitPaymentOrder(deps, { orderId, actor: 'clerk' });
    await run.approvePaymentOrder(deps, { orderId, approver: { id: 'alice', kind: 'human', roles: [] } });
    return run.approvePaymentOrder(deps, { orderId, approver: { id: 'bob', kind: 'human', roles: [] } });
  });
  const release = await timed(() => run.releasePaymentOrder(deps, { orderId, actor: 'clerk' }));
  const size = readFileSync(join(dir, release.result.fileName)).length;
  process.stdout.write(
    `${JSON.stringify({ bench: 'payments-flow', bills: N, lines: propose.result.lineCount, proposeMs: propose.ms, submitAndApproveMs: approve.ms, releaseMs: release.ms, fileBytes: size, store: 'pglite' })}\n`,
  );
} finally {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}

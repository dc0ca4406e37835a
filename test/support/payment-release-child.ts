/**
 * The payment-run deps the release crash test shares with its child process, and the child: with
 * RELEASE_CHILD=1 it opens the PostgreSQL database at RELEASE_DB and releases RELEASE_ORDER into
 * the folder RELEASE_OUTBOX with the real release code. It prints WRITTEN when the file is in the
 * folder and then waits RELEASE_DELAY_MS before the commit (the window a SIGKILL should hit), and
 * RELEASED <json> after the commit.
 */
import { readFileSync } from 'node:fs';
import { recordAudit } from '../../src/audit/index.ts';
import { fixedClock, money, type OpenVendorBill, type VendorPayables } from '../../src/domain/index.ts';
import { publish } from '../../src/events/index.ts';
import {
  approvePaymentOrder,
  createFolderChannel,
  proposePaymentOrder,
  releasePaymentOrder,
  submitPaymentOrder,
  type PaymentFileChannel,
  type PaymentRunDeps,
} from '../../src/flows/payment-run/index.ts';
import { approvalPolicySchema } from '../../src/policy/approval/index.ts';
import { openPostgres, type Db } from '../../src/store/index.ts';

const XSD_DIR = new URL('../../../shared/fixtures/xsd/', import.meta.url);
export const RELEASE_NOW = Date.parse('2026-11-20T09:00:00Z');

/** Two vendors' bills of one run; ids carry the run so every run proposes a fresh order. */
export function runBills(run: string): OpenVendorBill[] {
  const common = {
    billDate: '2026-11-01',
    dueDate: '2026-11-15',
    vendorCreatedAt: new Date('2020-01-01T00:00:00Z'),
  };
  return [
    {
      ...common,
      billId: `${run}-1`,
      number: `BILL/${run}/1`,
      vendorId: '10',
      vendorName: 'Lumber Inc',
      amountDue: money(24_000n, 'EUR'),
      vendorIban: 'FR7630006000011234567890189',
    },
    {
      ...common,
      billId: `${run}-2`,
      number: `BILL/${run}/2`,
      vendorId: '11',
      vendorName: 'Müller & Søn',
      amountDue: money(500_001n, 'EUR'),
      vendorIban: 'DE89370400440532013000',
    },
  ];
}

/** The deps of the crash test: one account, two approvals, a fixed clock, the folder channel. */
export function releaseDeps(
  db: Db,
  outbox: string,
  options: {
    bills?: OpenVendorBill[];
    wrap?: (c: PaymentFileChannel) => PaymentFileChannel;
    ids?: string;
  } = {},
): PaymentRunDeps {
  const payables: VendorPayables = {
    listOpenVendorBills: async () => options.bills ?? [],
    registerVendorPayment: async () => {
      throw new Error('not used by the release');
    },
  };
  let k = 0;
  return {
    db,
    accounts: [
      {
        id: 'acct-crash',
        entity: 'ent-crash',
        iban: 'DE89370400440532013000',
        bic: 'COBADEFFXXX',
        currency: 'EUR',
        odooJournal: 'BNK1',
        painVersion: 'pain.001.001.09',
      },
    ],
    entities: [{ id: 'ent-crash', name: 'Kontor Demo GmbH', odooCompanyId: 1 }],
    payables,
    policy: approvalPolicySchema.parse({ bands: [{ currency: 'EUR', from: '0', approvals: 2 }] }),
    channelFor: () =>
      options.wrap ? options.wrap(createFolderChannel(outbox)) : createFolderChannel(outbox),
    xsd: { 'pain.001.001.09': readFileSync(new URL('sepaxml__pain.001.001.09.xsd', XSD_DIR), 'utf8') },
    publish: (tx, e) => publish(tx, e),
    audit: (tx, e) => recordAudit(tx, e),
    clock: fixedClock(RELEASE_NOW),
    ids: { next: () => `${options.ids ?? 'PO'}-${++k}` },
  };
}

/** Proposes an order over the run's bills, submits it and has alice and bob approve it (carol created it). */
export async function approvedOrder(deps: PaymentRunDeps): Promise<string> {
  const p = await proposePaymentOrder(deps, {
    bankAccountId: 'acct-crash',
    dueBy: '2026-11-30',
    actor: 'carol',
  });
  await submitPaymentOrder(deps, { orderId: p.orderId, actor: 'carol' });
  for (const id of ['alice', 'bob'])
    await approvePaymentOrder(deps, { orderId: p.orderId, approver: { id, kind: 'human', roles: [] } });
  return p.orderId;
}

if (process.env.RELEASE_CHILD === '1') {
  const need = (name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new Error(`${name} is not set`);
    return v;
  };
  const delayMs = Number(process.env.RELEASE_DELAY_MS ?? 0);
  const db = await openPostgres({ url: need('RELEASE_DB') });
  const deps = releaseDeps(db, need('RELEASE_OUTBOX'), {
    wrap: (inner) => ({
      ...inner,
      async deliver(name, content) {
        const r = await inner.deliver(name, content);
        process.stdout.write('WRITTEN\n');
        // The window between the file in the channel and the commit, widened so a kill can land in it.
        if (delayMs > 0) await new Promise((res) => setTimeout(res, delayMs));
        return r;
      },
    }),
  });
  process.stdout.write('START\n');
  const r = await releasePaymentOrder(deps, { orderId: need('RELEASE_ORDER'), actor: 'ops' });
  process.stdout.write(`RELEASED ${JSON.stringify(r)}\n`);
  await db.close();
}

// The payment-run flow against a fake Odoo port on a real store: every transition, cancel rules,
// segregation of duties through the flow, approval expiry, exactly-once release (concurrent and
// after a crash), XSD validity of the released file and pain.002 statuses back.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordAudit } from '../src/audit/index.ts';
import {
  fixedClock,
  money,
  type OpenVendorBill,
  type VendorPayables,
  type VendorPaymentRegistration,
} from '../src/domain/index.ts';
import { publish } from '../src/events/index.ts';
import { validateXml } from '../src/formats/iso20022/xsd/index.ts';
import {
  applyStatusReport,
  approvePaymentOrder,
  cancelPaymentOrder,
  createFolderChannel,
  explainPaymentOrder,
  getPaymentOrder,
  proposePaymentOrder,
  releasePaymentOrder,
  submitPaymentOrder,
  type PaymentActor,
  type PaymentFileChannel,
  type PaymentRunDeps,
} from '../src/flows/payment-run/index.ts';
import { approvalPolicySchema, type ApprovalPolicyInput } from '../src/policy/approval/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { makePain002 } from './support/pain002.ts';

const XSD_DIR = new URL('../../shared/fixtures/xsd/', import.meta.url);
const XSD = {
  'pain.001.001.09': readFileSync(new URL('sepaxml__pain.001.001.09.xsd', XSD_DIR), 'utf8'),
  'pain.001.001.03': readFileSync(new URL('oca-bp__pain.001.001.03.xsd', XSD_DIR), 'utf8'),
};
const PAIN002_DIR = new URL('../../shared/fixtures/pain002/', import.meta.url);
const NOW = Date.parse('2026-11-20T09:00:00Z');
const HOUR = 3_600_000;
const OLD = new Date('2020-01-01T00:00:00Z');

function bill(
  id: string,
  vendorId: string,
  vendorName: string,
  cents: bigint,
  extra: Partial<OpenVendorBill> = {},
): OpenVendorBill {
  return {
    billId: id,
    number: `BILL/2026/${id}`,
    vendorId,
    vendorName,
    amountDue: money(cents, 'EUR'),
    billDate: '2026-11-01',
    dueDate: '2026-11-15',
    vendorIban: 'FR7630006000011234567890189',
    vendorCreatedAt: OLD,
    ...extra,
  };
}

class FakePayables implements VendorPayables {
  bills: OpenVendorBill[] = [
    bill('1', '10', 'Lumber Inc', 24_000n),
    bill('2', '10', 'Lumber Inc', 99_999n),
    bill('3', '11', 'Müller & Søn <ÆØÅ> Ltd “quotes”', 500_000n, {
      vendorIban: 'DE89370400440532013000',
      paymentReference: 'RF18539007547034',
    }),
    bill('4', '12', 'No Bank GmbH', 1_000n, { vendorIban: undefined }),
  ];
  registrations = new Map<string, VendorPaymentRegistration>();
  calls = 0;
  async listOpenVendorBills(q: { companyId: number; currency: string; dueBy: string }) {
    return this.bills.filter((b) => b.amountDue.amount > 0n && (b.dueDate ?? '') <= q.dueBy);
  }
  async registerVendorPayment(input: VendorPaymentRegistration) {
    this.calls++;
    if (!this.registrations.has(input.endToEndId)) {
      this.registrations.set(input.endToEndId, input);
      for (const id of input.billIds) {
        const b = this.bills.find((x) => x.billId === id)!;
        b.amountDue = money(0n, 'EUR');
      }
    }
    return { paymentId: [...this.registrations.keys()].indexOf(input.endToEndId) + 1 };
  }
}

/** Ids in the SEPA identifier set (no underscore). */
function hyphenIds(prefix: string) {
  let k = 0;
  return { next: () => `${prefix}-${++k}` };
}

const human = (id: string, roles: string[] = []): PaymentActor => ({ id, kind: 'human', roles });

for (const backend of backends) {
  describe(`payment run (${backend})`, () => {
    let t: TestDb;
    let dir: string;
    let n = 0;
    before(async () => {
      t = await createTestDb(backend);
      dir = mkdtempSync(join(tmpdir(), 'kontor-payrun-'));
    });
    after(async () => {
      await t.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    function setup(
      policy: ApprovalPolicyInput = { bands: [{ currency: 'EUR', from: '0', approvals: 2 }] },
      channel?: (c: PaymentFileChannel) => PaymentFileChannel,
    ) {
      n++;
      const payables = new FakePayables();
      const clock = fixedClock(NOW);
      const outbox = join(dir, `outbox-${n}`);
      const deps: PaymentRunDeps = {
        db: t.db,
        accounts: [
          {
            id: `acct-${n}`,
            entity: `ent-${n}`,
            iban: 'DE89370400440532013000',
            bic: 'COBADEFFXXX',
            currency: 'EUR',
            odooJournal: 'BNK1',
            painVersion: 'pain.001.001.09',
          },
          {
            id: `acct03-${n}`,
            entity: `ent03-${n}`,
            iban: 'DE89370400440532013000',
            currency: 'EUR',
            odooJournal: 'BNK1',
            painVersion: 'pain.001.001.03',
          },
        ],
        entities: [
          { id: `ent-${n}`, name: 'Kontor Demo GmbH', odooCompanyId: 1 },
          { id: `ent03-${n}`, name: 'Kontor Demo GmbH', odooCompanyId: 1 },
        ],
        payables,
        policy: approvalPolicySchema.parse(policy),
        channelFor: () => (channel ? channel(createFolderChannel(outbox)) : createFolderChannel(outbox)),
        xsd: XSD,
        publish: (tx, e) => publish(tx, e),
        audit: (tx, e) => recordAudit(tx, e),
        clock,
        ids: hyphenIds(`PO${n}`),
      };
      return { deps, payables, clock, outbox, account: `acct-${n}` };
    }

    async function approvedOrder(s: ReturnType<typeof setup>, account = s.account) {
      const p = await proposePaymentOrder(s.deps, {
        bankAccountId: account,
        dueBy: '2026-11-30',
        actor: 'carol',
      });
      await submitPaymentOrder(s.deps, { orderId: p.orderId, actor: 'carol' });
      await approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('alice') });
      const r = await approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('bob') });
      assert.equal(r.state, 'approved');
      return p.orderId;
    }

    async function eventTypes(orderId: string): Promise<string[]> {
      const r = await t.db.query<{ type: string }>(
        'SELECT type FROM kontor_events WHERE subject = $1 ORDER BY seq',
        [orderId],
      );
      return r.rows.map((e) => e.type.replace('kontor.payment.order.', '').replace('.v1', ''));
    }

    it('proposes one transfer per vendor, skips vendors without a bank account, and holds each bill once', async () => {
      const s = setup();
      const p = await proposePaymentOrder(s.deps, {
        bankAccountId: s.account,
        dueBy: '2026-11-30',
        actor: 'carol',
      });
      assert.equal(p.lineCount, 2);
      assert.equal(p.billCount, 3);
      assert.deepEqual(p.total, { amount: '6239.99', currency: 'EUR' });
      assert.deepEqual(
        p.skipped.map((x) => x.billId),
        ['4'],
      );
      const order = await getPaymentOrder(s.deps, p.orderId);
      assert.equal(order.state, 'draft');
      assert.deepEqual(
        order.lines[0]!.bills.map((b) => b.billId),
        ['1', '2'],
      );
      assert.equal(order.lines[1]!.creditorReference, 'RF18539007547034');
      await assert.rejects(
        proposePaymentOrder(s.deps, { bankAccountId: s.account, dueBy: '2026-11-30', actor: 'carol' }),
        (e: Error & { code?: string }) => e.code === 'PAYMENT_ORDER_EMPTY',
      );
      // The database itself refuses a second open holder of the same bill.
      await assert.rejects(
        t.db.query(
          `INSERT INTO payment_order_bills (order_id, end_to_end_id, entity_id, bill_id, bill_number, amount) VALUES ($1, $2, $3, '1', 'x', 1)`,
          [p.orderId, `${p.orderId}-2`, `ent-${n}`],
        ),
        /unique|duplicate/i,
      );
      assert.deepEqual(await eventTypes(p.orderId), ['draft']);
    });

    it('two concurrent proposals never put a bill into two open orders', async () => {
      const s = setup();
      const results = await Promise.allSettled([
        proposePaymentOrder(s.deps, { bankAccountId: s.account, dueBy: '2026-11-30', actor: 'carol' }),
        proposePaymentOrder(s.deps, { bankAccountId: s.account, dueBy: '2026-11-30', actor: 'dave' }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      const lost = results.find((r) => r.status === 'rejected');
      assert.ok(
        ['BILL_ALREADY_IN_OPEN_ORDER', 'PAYMENT_ORDER_EMPTY'].includes(
          String((lost!.reason as { code?: string }).code),
        ),
        String(lost!.reason),
      );
      const held = await t.db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM payment_order_bills WHERE entity_id = $1 AND open',
        [`ent-${n}`],
      );
      assert.equal(held.rows[0]!.n, '3');
    });

    it('ignores a rejection that arrives after the transfer settled (a person handles returns)', async () => {
      const s = setup();
      const orderId = await approvedOrder(s);
      await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      await applyStatusReport(s.deps, {
        xml: makePain002(orderId, [{ endToEndId: `${orderId}-1`, status: 'ACSC' }]),
        actor: 'bank',
      });
      const late = await applyStatusReport(s.deps, {
        xml: makePain002(
          orderId,
          [{ endToEndId: `${orderId}-1`, status: 'RJCT', reason: 'AC04' }],
          'STS-LATE',
        ),
        actor: 'bank',
      });
      assert.match(late.transactions[0]!.note ?? '', /already settled/);
      const order = await getPaymentOrder(s.deps, orderId);
      assert.equal(order.lines[0]!.status, 'settled');
      assert.equal(order.exceptions.length, 0);
    });

    it('enforces segregation of duties: creator, services, duplicates and admins cannot approve', async () => {
      const s = setup();
      const p = await proposePaymentOrder(s.deps, {
        bankAccountId: s.account,
        dueBy: '2026-11-30',
        actor: 'carol',
      });
      const code = (c: string) => (e: Error & { code?: string }) => e.code === c;
      await assert.rejects(
        approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('alice') }),
        code('PAYMENT_ORDER_STATE_CONFLICT'),
      );
      await submitPaymentOrder(s.deps, { orderId: p.orderId, actor: 'carol' });
      await assert.rejects(
        approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('carol', ['admin']) }),
        code('SOD_CREATOR_CANNOT_APPROVE'),
      );
      await assert.rejects(
        approvePaymentOrder(s.deps, {
          orderId: p.orderId,
          approver: { id: 'bank-bot', kind: 'service', roles: ['admin'] },
        }),
        code('APPROVER_NOT_HUMAN'),
      );
      const first = await approvePaymentOrder(s.deps, {
        orderId: p.orderId,
        approver: human('alice', ['admin']),
      });
      assert.deepEqual([first.state, first.missingApprovals], ['pending_approval', 1]);
      await assert.rejects(
        approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('alice', ['admin']) }),
        code('SOD_DUPLICATE_APPROVER'),
      );
      const second = await approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('bob') });
      assert.equal(second.state, 'approved');
      const explained = await explainPaymentOrder(s.deps, p.orderId);
      assert.equal(explained.requiredApprovals, 2);
      assert.ok(explained.firedRules.some((r) => r.rule.startsWith('band:')));
      assert.deepEqual(
        explained.approvals.map((a) => a.approverId),
        ['alice', 'bob'],
      );
    });

    it('requires the roles a rule asks for and explains the risk signals that fired', async () => {
      const s = setup({
        bands: [{ currency: 'EUR', from: '0', approvals: 1 }],
        riskSignals: { bankAccountChanged: { withinDays: 30, approvals: 2, roles: ['treasurer'] } },
      });
      s.payables.bills[2]!.bankAccountChangedAt = new Date(NOW - 3 * 24 * HOUR);
      const p = await proposePaymentOrder(s.deps, {
        bankAccountId: s.account,
        dueBy: '2026-11-30',
        actor: 'carol',
      });
      await submitPaymentOrder(s.deps, { orderId: p.orderId, actor: 'carol' });
      const why = await explainPaymentOrder(s.deps, p.orderId);
      assert.ok(
        why.firedRules.some((r) => r.rule === 'bank-account-changed:11' && /changed 3 day/.test(r.reason)),
        JSON.stringify(why.firedRules),
      );
      await approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('alice') });
      await assert.rejects(
        approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('bob') }),
        (e: Error & { code?: string }) => e.code === 'APPROVER_MISSING_ROLE',
      );
      assert.equal(
        (await approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('tom', ['treasurer']) }))
          .state,
        'approved',
      );
    });

    it('lets approvals expire: before approval completes and before release', async () => {
      const s = setup({ bands: [{ currency: 'EUR', from: '0', approvals: 2 }], approvalValidForHours: 72 });
      const p = await proposePaymentOrder(s.deps, {
        bankAccountId: s.account,
        dueBy: '2026-11-30',
        actor: 'carol',
      });
      await submitPaymentOrder(s.deps, { orderId: p.orderId, actor: 'carol' });
      await approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('alice') });
      s.clock.advance(73 * HOUR);
      const late = await approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('bob') });
      assert.deepEqual([late.state, late.approvers], ['pending_approval', ['bob']]);
      assert.equal(
        (await approvePaymentOrder(s.deps, { orderId: p.orderId, approver: human('alice') })).state,
        'approved',
      );
      s.clock.advance(80 * HOUR);
      await assert.rejects(
        releasePaymentOrder(s.deps, { orderId: p.orderId, actor: 'ops' }),
        (e: Error & { code?: string }) => e.code === 'APPROVAL_EXPIRED',
      );
      assert.equal((await getPaymentOrder(s.deps, p.orderId)).state, 'pending_approval');
      assert.equal(existsSync(s.outbox), false, 'nothing was written');
    });

    it('runs the whole life: release writes an XSD-valid file, pain.002 accepts, settles and registers in Odoo', async () => {
      const s = setup();
      const orderId = await approvedOrder(s);
      const r = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      assert.equal(r.fileName, `${orderId}.xml`);
      const xml = readFileSync(join(s.outbox, r.fileName), 'utf8');
      assert.deepEqual(validateXml(xml, XSD['pain.001.001.09']), { ok: true, value: undefined });
      assert.match(xml, /<NbOfTxs>2<\/NbOfTxs>/);
      assert.match(xml, /<CtrlSum>6239.99<\/CtrlSum>/);
      assert.match(xml, /<Ref>RF18539007547034<\/Ref>/);
      assert.doesNotMatch(xml, /[ü<>ÆØÅ“]+ Ltd/);
      const again = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      assert.equal(again.alreadyReleased, true);
      await assert.rejects(cancelPaymentOrder(s.deps, { orderId: 'nope', actor: 'x' }), /no payment order/);

      const first = await applyStatusReport(s.deps, {
        xml: makePain002(orderId, [
          { endToEndId: `${orderId}-1`, status: 'ACSC' },
          { endToEndId: `${orderId}-2`, status: 'ACCP' },
        ]),
        actor: 'bank',
      });
      assert.deepEqual(first.orders, [{ orderId, state: 'accepted' }]);
      assert.equal(first.registered, 2);
      assert.equal(s.payables.registrations.size, 2);
      assert.deepEqual(s.payables.registrations.get(`${orderId}-1`)!.billIds, ['1', '2']);
      const second = await applyStatusReport(s.deps, {
        xml: makePain002(orderId, [{ endToEndId: `${orderId}-2`, status: 'ACSC' }], 'STS-2'),
        actor: 'bank',
      });
      assert.deepEqual(second.orders, [{ orderId, state: 'settled' }]);
      assert.equal(second.registered, 0, 'already registered: nothing new in Odoo');
      await assert.rejects(
        cancelPaymentOrder(s.deps, { orderId, actor: 'carol' }),
        (e: Error & { code?: string }) => e.code === 'PAYMENT_ORDER_STATE_CONFLICT',
      );
      assert.deepEqual(await eventTypes(orderId), [
        'draft',
        'pending_approval',
        'approved',
        'released',
        'sent',
        'accepted',
        'settled',
      ]);
      const audits = await t.db.query<{ action: string }>(
        `SELECT action FROM kontor_audit WHERE resource_id = $1 ORDER BY seq`,
        [orderId],
      );
      assert.equal(audits.rows.filter((a) => a.action === 'payment-order.released').length, 1);
    });

    it('a rejected transfer raises an exception in words and frees its bills for the next run', async () => {
      const s = setup();
      const orderId = await approvedOrder(s);
      await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      const result = await applyStatusReport(s.deps, {
        xml: makePain002(orderId, [
          { endToEndId: `${orderId}-1`, status: 'ACSC' },
          { endToEndId: `${orderId}-2`, status: 'RJCT', reason: 'AC04' },
        ]),
        actor: 'bank',
      });
      assert.deepEqual(result.orders, [{ orderId, state: 'settled' }]);
      assert.deepEqual(await eventTypes(orderId), [
        'draft',
        'pending_approval',
        'approved',
        'released',
        'sent',
        'partially_accepted',
        'settled',
      ]);
      const order = await getPaymentOrder(s.deps, orderId);
      assert.equal(order.exceptions.length, 1);
      assert.match(order.exceptions[0]!.reason, /AC04.*closed/i);
      assert.deepEqual(order.exceptions[0]!.billIds, ['3']);
      assert.equal(s.payables.registrations.has(`${orderId}-2`), false);
      const next = await proposePaymentOrder(s.deps, {
        bankAccountId: s.account,
        dueBy: '2026-11-30',
        actor: 'carol',
      });
      assert.equal(next.billCount, 1, 'the rejected bill is proposed again');
    });

    it('an order whose every transfer is rejected ends rejected', async () => {
      const s = setup();
      const orderId = await approvedOrder(s);
      await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      const r = await applyStatusReport(s.deps, {
        xml: makePain002(orderId, [
          { endToEndId: `${orderId}-1`, status: 'RJCT', reason: 'AM04' },
          { endToEndId: `${orderId}-2`, status: 'RJCT', reason: 'AC01' },
        ]),
        actor: 'bank',
      });
      assert.deepEqual(r.orders, [{ orderId, state: 'rejected' }]);
      assert.equal(s.payables.calls, 0);
    });

    it('cancels from every state before sent, withdrawing a released file and freeing the bills', async () => {
      const s = setup();
      const draft = await proposePaymentOrder(s.deps, {
        bankAccountId: s.account,
        dueBy: '2026-11-30',
        actor: 'carol',
      });
      await cancelPaymentOrder(s.deps, { orderId: draft.orderId, actor: 'carol', reason: 'wrong date' });
      const pending = await proposePaymentOrder(s.deps, {
        bankAccountId: s.account,
        dueBy: '2026-11-30',
        actor: 'carol',
      });
      await submitPaymentOrder(s.deps, { orderId: pending.orderId, actor: 'carol' });
      await cancelPaymentOrder(s.deps, { orderId: pending.orderId, actor: 'carol' });
      const approved = await approvedOrder(s);
      await cancelPaymentOrder(s.deps, { orderId: approved, actor: 'carol' });
      const released = await approvedOrder(s);
      await releasePaymentOrder(s.deps, { orderId: released, actor: 'ops' });
      const c = await cancelPaymentOrder(s.deps, { orderId: released, actor: 'carol' });
      assert.equal(c.withdrawnFile, `${released}.xml`);
      assert.deepEqual(
        readdirSync(s.outbox).filter((f) => !f.startsWith('.')),
        [],
      );
      for (const id of [draft.orderId, pending.orderId, approved, released])
        assert.equal((await getPaymentOrder(s.deps, id)).state, 'cancelled');
      await assert.rejects(
        cancelPaymentOrder(s.deps, { orderId: released, actor: 'carol' }),
        (e: Error & { code?: string }) => e.code === 'PAYMENT_ORDER_STATE_CONFLICT',
      );
    });

    it('two concurrent releases write one file and record one release', async () => {
      const s = setup();
      const orderId = await approvedOrder(s);
      const results = await Promise.all([
        releasePaymentOrder(s.deps, { orderId, actor: 'ops-1' }),
        releasePaymentOrder(s.deps, { orderId, actor: 'ops-2' }),
      ]);
      assert.deepEqual(results.map((r) => r.alreadyReleased).sort(), [false, true]);
      assert.equal(results[0].sha256, results[1].sha256);
      assert.deepEqual(readdirSync(s.outbox), [`${orderId}.xml`]);
      assert.deepEqual(
        (await eventTypes(orderId)).filter((e) => e === 'released'),
        ['released'],
      );
    });

    it('a crash after the file was written but before the commit is finished by the retry without a second file', async () => {
      let crash = true;
      const s = setup(undefined, (inner) => ({
        ...inner,
        deliver: async (name, content) => {
          const r = await inner.deliver(name, content);
          if (crash) throw new Error('simulated crash after writing the file');
          return r;
        },
      }));
      const orderId = await approvedOrder(s);
      await assert.rejects(releasePaymentOrder(s.deps, { orderId, actor: 'ops' }), /simulated crash/);
      assert.equal((await getPaymentOrder(s.deps, orderId)).state, 'approved');
      const written = readFileSync(join(s.outbox, `${orderId}.xml`), 'utf8');
      crash = false;
      s.clock.advance(60_000);
      const retry = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      assert.equal(retry.recovered, true);
      assert.deepEqual(readdirSync(s.outbox), [`${orderId}.xml`]);
      assert.equal(
        readFileSync(join(s.outbox, `${orderId}.xml`), 'utf8'),
        written,
        'the first file is kept, not rewritten',
      );
      assert.equal((await getPaymentOrder(s.deps, orderId)).fileSha256, retry.sha256);
    });

    it('writes pain.001.001.03 for a bank that needs it, valid against its XSD', async () => {
      const s = setup();
      const orderId = await approvedOrder(s, `acct03-${n}`);
      const r = await releasePaymentOrder(s.deps, { orderId, actor: 'ops' });
      const xml = readFileSync(join(s.outbox, r.fileName), 'utf8');
      assert.match(xml, /pain\.001\.001\.03/);
      assert.deepEqual(validateXml(xml, XSD['pain.001.001.03']), { ok: true, value: undefined });
    });

    it('reads every pain.002 fixture without applying statuses to unknown transfers', async () => {
      const s = setup();
      for (const name of readdirSync(PAIN002_DIR)) {
        const xml = readFileSync(new URL(name, PAIN002_DIR), 'utf8');
        try {
          const r = await applyStatusReport(s.deps, { xml, actor: 'bank' });
          assert.deepEqual(r.orders, [], name);
          assert.ok(
            r.transactions.every((x) => !x.applied),
            name,
          );
        } catch (e) {
          // Broken fixtures (e.g. moov-iso invalid_pain_v11) are refused with a parse error, never half-applied.
          assert.equal(
            (e as { code?: string }).code?.startsWith('XML_') ||
              (e as { code?: string }).code === 'STATUS_REPORT_PARSE_FAILED',
            true,
            `${name}: ${String(e)}`,
          );
        }
      }
    });
  });
}

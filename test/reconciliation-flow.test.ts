// The reconciliation flow's decision storage against the real store (both backends), outbox and
// audit log, with a fake ledger port: one decision per line, replays do nothing, Odoo failures retried.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { recordAudit } from '../src/audit/index.ts';
import {
  fixedClock,
  money,
  RetryAfterError,
  sequentialIds,
  type LedgerOpenItem,
  type LedgerReconciliation,
  type ReconciliationLedger,
  type StatementLinePoster,
} from '../src/domain/index.ts';
import { publish } from '../src/events/index.ts';
import {
  allocateManually,
  createDefaultRules,
  createRfReference,
  listExceptions,
  matchManually,
  reconcileStatement,
  rejectProposal,
  rematchExceptions,
  undoReconciliation,
  type ReconciliationDeps,
} from '../src/flows/reconciliation/index.ts';
import { importStatementFile, postPendingLines } from '../src/flows/statement-import/index.ts';
import { makeCamt } from './support/camt.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';

const IBAN = 'DE89370400440532013000';
const PAYER = 'NL91ABNA0417164300';
const accounts = [{ id: 'demo-eur', entity: 'demo', iban: IBAN, currency: 'EUR', odooJournal: 'BNK1' }];
const entities = [{ id: 'demo', odooCompanyId: 1 }];
const enc = (s: string) => new TextEncoder().encode(s);
const eur = (cents: bigint) => money(cents, 'EUR');

const items: LedgerOpenItem[] = [
  {
    id: '101',
    number: 'INV/1',
    kind: 'customer_invoice',
    partnerId: '7',
    amount: eur(10_000n),
    residual: eur(10_000n),
    dueDate: '2026-11-30',
    paymentReference: createRfReference('INV1'),
  },
  {
    id: '102',
    number: 'INV/2',
    kind: 'customer_invoice',
    partnerId: '8',
    amount: eur(5_000n),
    residual: eur(5_000n),
    dueDate: '2026-11-30',
  },
  {
    id: '103',
    number: 'INV/3',
    kind: 'customer_invoice',
    partnerId: '8',
    amount: eur(2_500n),
    residual: eur(2_500n),
    dueDate: '2026-11-30',
  },
];

class FakeLedger implements ReconciliationLedger {
  calls: LedgerReconciliation[] = [];
  undone: number[] = [];
  /** Open items posted in Odoo after the statement arrived. */
  extra: LedgerOpenItem[] = [];
  down = false;
  alreadyReconciled = false;
  async listOpenItems() {
    return [...items, ...this.extra];
  }
  async listPartnersByIban() {
    return new Map([[PAYER, '7']]);
  }
  async reconcileLine(request: LedgerReconciliation) {
    if (this.down) throw new RetryAfterError('ODOO_UNAVAILABLE', 'Odoo is down');
    this.calls.push(request);
    return {
      status: this.alreadyReconciled ? ('already_reconciled' as const) : ('reconciled' as const),
      writeOffSkipped: false,
    };
  }
  async undoReconciliation(_companyId: number | undefined, statementLineId: number) {
    if (this.down) throw new RetryAfterError('ODOO_UNAVAILABLE', 'Odoo is down');
    this.undone.push(statementLineId);
  }
  async listJournalLines() {
    return [];
  }
}

const poster: StatementLinePoster = {
  async postStatementLines(_target, lines) {
    return lines.map((l, i) => ({ lineId: l.lineId, status: 'posted' as const, odooId: 1000 + i }));
  },
};

for (const backend of backends) {
  describe(`reconciliation flow on ${backend}`, () => {
    let t: TestDb;
    let ledger: FakeLedger;
    let deps: ReconciliationDeps;
    const clock = fixedClock(Date.parse('2026-11-22T08:00:00Z'));
    before(async () => {
      t = await createTestDb(backend);
    });
    after(async () => {
      await t.drop();
    });
    beforeEach(async () => {
      await t.db.exec('TRUNCATE reconciliation_items, statement_lines, bank_statements, statement_imports');
      ledger = new FakeLedger();
      deps = {
        db: t.db,
        accounts,
        entities,
        ledger,
        rules: createDefaultRules(),
        publish: (tx, e) => publish(tx, e, { clock }),
        audit: (tx, e) => recordAudit(tx, e),
        clock,
      };
    });

    async function importAndPost(
      statementId: string,
    ): Promise<{ statementRowId: string; lineIds: string[] }> {
      const common = { db: t.db, accounts, entities, clock, publish: deps.publish, audit: deps.audit };
      await importStatementFile(
        { ...common, ids: sequentialIds(`${backend}${statementId}${Date.now()}`) },
        {
          content: enc(
            makeCamt({
              iban: IBAN,
              statementId,
              entries: [
                {
                  ref: `${statementId}-1`,
                  amount: '100.00',
                  date: '2026-11-20',
                  name: 'A',
                  iban: PAYER,
                  remittance: createRfReference('INV1'),
                },
                {
                  ref: `${statementId}-2`,
                  amount: '75.00',
                  date: '2026-11-20',
                  name: 'B',
                  remittance: 'two invoices',
                },
                {
                  ref: `${statementId}-3`,
                  amount: '12.34',
                  date: '2026-11-20',
                  name: 'C',
                  remittance: 'who knows',
                },
              ],
            }),
          ),
          source: 'api',
          actor: 'test',
        },
      );
      await postPendingLines({ ...common, poster });
      const lines = await t.db.query<{ id: string; statement_row_id: string }>(
        `SELECT id, statement_row_id FROM statement_lines ORDER BY seq_in_statement`,
      );
      return { statementRowId: lines.rows[0]!.statement_row_id, lineIds: lines.rows.map((l) => l.id) };
    }

    const matchedEvents = async () =>
      (
        await t.db.query<{ n: bigint }>(
          `SELECT count(*) AS n FROM kontor_events WHERE type = 'kontor.reconciliation.matched.v1'`,
        )
      ).rows[0]!.n;

    it('stores one decision per line, reconciles the auto match once, and a replay does nothing', async () => {
      const before = await matchedEvents();
      const { statementRowId, lineIds } = await importAndPost('S1');
      const r = await reconcileStatement(deps, statementRowId);
      assert.equal(r.autoMatched, 1);
      assert.equal(r.reconciledInOdoo, 1);
      assert.equal(r.autoMatched + r.proposed + r.exceptions, 3);
      assert.equal(ledger.calls.length, 1);
      assert.deepEqual(
        ledger.calls[0]!.allocations.map((a) => a.itemId),
        ['101'],
      );
      assert.equal(ledger.calls[0]!.statementLineId, 1000);
      assert.equal((await matchedEvents()) - before, 1n);

      const again = await reconcileStatement(deps, statementRowId);
      assert.equal(again.alreadyDecided, 3);
      assert.equal(again.autoMatched + again.proposed + again.exceptions + again.reconciledInOdoo, 0);
      assert.equal(ledger.calls.length, 1);
      assert.equal((await matchedEvents()) - before, 1n);

      const queue = await listExceptions(t.db, clock, {});
      assert.deepEqual(queue.data.map((i) => i.id).sort(), lineIds.slice(1).sort());
      const unknown = queue.data.find((i) => i.id === lineIds[2])!;
      assert.equal(unknown.status, 'exception');
      assert.ok(unknown.reason);
      assert.equal(unknown.createdAt, '2026-11-22T08:00:00.000Z');
    });

    it('keeps an auto match whose Odoo call failed and retries it on the next run, publishing once', async () => {
      const before = await matchedEvents();
      const { statementRowId, lineIds } = await importAndPost('S2');
      ledger.down = true;
      const first = await reconcileStatement(deps, statementRowId);
      assert.equal(first.failedInOdoo, 1);
      assert.equal((await matchedEvents()) - before, 0n);
      const stored = await t.db.query<{ odoo_state: string; odoo_attempts: number }>(
        `SELECT odoo_state, odoo_attempts FROM reconciliation_items WHERE line_id = $1`,
        [lineIds[0]],
      );
      assert.deepEqual(stored.rows[0], { odoo_state: 'failed', odoo_attempts: 1 });
      ledger.down = false;
      ledger.alreadyReconciled = true; // e.g. the first call reached Odoo before the connection broke
      const second = await reconcileStatement(deps, statementRowId);
      assert.equal(second.reconciledInOdoo, 1);
      assert.equal((await matchedEvents()) - before, 1n);
      await reconcileStatement(deps, statementRowId);
      assert.equal((await matchedEvents()) - before, 1n);
    });

    it('re-matches an exception when a new open item appears, once, and leaves decided lines alone', async () => {
      const { statementRowId, lineIds } = await importAndPost('S4');
      await reconcileStatement(deps, statementRowId);
      const status = async (id: string) =>
        (
          await t.db.query<{ status: string; odoo_state: string; decided_by: string | null }>(
            `SELECT status, odoo_state, decided_by FROM reconciliation_items WHERE line_id = $1`,
            [id],
          )
        ).rows[0]!;
      assert.equal((await status(lineIds[2]!)).status, 'exception');
      // A person closed line 2; whatever appears later, that decision stands.
      await rejectProposal(deps, lineIds[1]!, { actor: 'idn_clerk' });
      const first = await rematchExceptions(deps);
      assert.deepEqual([first.examined, first.autoMatched, first.proposed], [1, 0, 0]);
      // Nothing changed in Odoo: the next pass does no work.
      const idle = await rematchExceptions(deps);
      assert.deepEqual([idle.examined, idle.unchanged], [0, 1]);

      ledger.extra = [
        {
          id: '104',
          number: 'INV/4',
          kind: 'customer_invoice',
          partnerId: '9',
          amount: eur(1_234n),
          residual: eur(1_234n),
          dueDate: '2026-11-30',
          paymentReference: 'WHO KNOWS',
        },
        {
          id: '105',
          number: 'INV/5',
          kind: 'customer_invoice',
          partnerId: '8',
          amount: eur(7_500n),
          residual: eur(7_500n),
          dueDate: '2026-11-30',
          paymentReference: 'two invoices',
        },
      ];
      const calls = ledger.calls.length;
      const second = await rematchExceptions(deps);
      assert.equal(second.examined, 1);
      assert.equal(second.autoMatched, 1);
      assert.equal(second.reconciledInOdoo, 1);
      assert.deepEqual(
        ledger.calls.slice(calls).map((c) => c.allocations.map((a) => a.itemId)),
        [['104']],
      );
      const rematched = await status(lineIds[2]!);
      assert.deepEqual(rematched, { status: 'auto_reconciled', odoo_state: 'reconciled', decided_by: null });
      assert.deepEqual(await status(lineIds[1]!), {
        status: 'rejected',
        odoo_state: 'none',
        decided_by: 'idn_clerk',
      });
      const audit = await t.db.query<{ action: string }>(
        `SELECT action FROM kontor_audit WHERE resource_id = $1 ORDER BY seq`,
        [lineIds[2]],
      );
      assert.deepEqual(
        audit.rows.map((a) => a.action),
        ['reconciliation.rematched', 'reconciliation.reconciled'],
      );
      // Forced again: nothing left to re-match, nothing reconciled twice.
      const again = await rematchExceptions(deps, { force: true });
      assert.deepEqual([again.examined, again.autoMatched], [0, 0]);
      assert.equal(ledger.calls.length, calls + 1);
    });

    it('bounds a pass to rematchBatch lines and works through the rest on the next passes', async () => {
      const { statementRowId, lineIds } = await importAndPost('S5');
      await reconcileStatement(deps, statementRowId);
      const bounded = { ...deps, rematchBatch: 1 };
      const a = await rematchExceptions(bounded);
      const b = await rematchExceptions(bounded);
      assert.equal(a.examined, 1);
      assert.equal(b.examined, 1, 'a full batch means a backlog: the next pass looks again');
      assert.equal(lineIds.length, 3);
    });

    it('undoes a reconciliation: Odoo first, then back to a proposal with an event; again does nothing', async () => {
      const { statementRowId, lineIds } = await importAndPost('S6');
      await reconcileStatement(deps, statementRowId);
      const id = lineIds[0]!;
      ledger.down = true;
      await assert.rejects(undoReconciliation(deps, id, { actor: 'idn_clerk' }), /Odoo is down/);
      const unchanged = await t.db.query<{ status: string }>(
        `SELECT status FROM reconciliation_items WHERE line_id = $1`,
        [id],
      );
      assert.equal(unchanged.rows[0]!.status, 'auto_reconciled');
      ledger.down = false;
      const undone = await undoReconciliation(deps, id, { actor: 'idn_clerk', correlationId: 'corr-u' });
      assert.equal(undone.status, 'proposed');
      assert.equal(undone.odoo.state, 'none');
      assert.equal(undone.decidedBy, 'idn_clerk');
      assert.deepEqual(ledger.undone, [1000]);
      const again = await undoReconciliation(deps, id, { actor: 'idn_clerk' });
      assert.equal(again.status, 'proposed');
      assert.deepEqual(ledger.undone, [1000]);
      const events = await t.db.query<{ id: string; correlation_id: string }>(
        `SELECT id, correlation_id FROM kontor_events WHERE type = 'kontor.reconciliation.undone.v1' AND data->>'statementLineId' = $1`,
        [id],
      );
      assert.deepEqual(events.rows, [{ id: `undone-${id}-1`, correlation_id: 'corr-u' }]);
      // A person's undo is a decision: re-matching leaves the line alone.
      const r = await rematchExceptions(deps, { force: true });
      assert.equal(r.autoMatched, 0);
      // A rejected line cannot be undone.
      await rejectProposal(deps, lineIds[2]!, { actor: 'idn_clerk' });
      await assert.rejects(undoReconciliation(deps, lineIds[2]!, { actor: 'idn_clerk' }), /only/);
    });

    it('audits manual matches and rejections with the identity and correlation id', async () => {
      const { statementRowId, lineIds } = await importAndPost('S3');
      await reconcileStatement(deps, statementRowId);
      const matched = await matchManually(deps, lineIds[1]!, {
        actor: 'idn_clerk',
        correlationId: 'corr-1',
        itemIds: ['102', '103'],
      });
      assert.equal(matched.status, 'manually_matched');
      assert.equal(matched.odoo.state, 'reconciled');
      assert.equal(matched.decidedBy, 'idn_clerk');
      await assert.rejects(
        matchManually(deps, lineIds[2]!, { actor: 'idn_clerk', itemIds: ['102', '103'] }),
        /must add up/,
      );
      const rejected = await rejectProposal(deps, lineIds[2]!, {
        actor: 'idn_clerk',
        correlationId: 'corr-2',
      });
      assert.equal(rejected.status, 'rejected');
      const audit = await t.db.query<{ action: string; actor: string; correlation_id: string }>(
        `SELECT action, actor, correlation_id FROM kontor_audit WHERE resource_id = ANY($1) AND actor = 'idn_clerk' ORDER BY seq`,
        [lineIds],
      );
      assert.deepEqual(
        audit.rows.map((a) => [a.action, a.correlation_id]),
        [
          ['reconciliation.matched_manually', 'corr-1'],
          ['reconciliation.reconciled', 'corr-1'],
          ['reconciliation.rejected', 'corr-2'],
        ],
      );
    });
  });
}

describe('allocateManually', () => {
  const line = (cents: bigint) => ({ amount: cents, currency: 'EUR' });
  it('takes the residuals when they add up, within tolerance as a write-off', () => {
    const exact = allocateManually(line(15_000n), [items[0]!, items[1]!], 500n, 'bank-charges');
    assert.deepEqual(
      exact.allocations.map((a) => a.amount.amount),
      ['100.00', '50.00'],
    );
    assert.equal(exact.writeOff, null);
    const fee = allocateManually(line(9_800n), [items[0]!], 500n, 'bank-charges');
    assert.equal(fee.allocations[0]!.amount.amount, '100.00');
    assert.equal(fee.writeOff?.amount.amount, '-2.00');
  });
  it('pays the last item in part, and refuses what does not add up', () => {
    const partial = allocateManually(line(12_000n), [items[0]!, items[1]!], 500n, 'bank-charges');
    assert.deepEqual(
      partial.allocations.map((a) => a.amount.amount),
      ['100.00', '20.00'],
    );
    assert.throws(() => allocateManually(line(5_000n), [items[0]!, items[1]!], 500n, 'x'), /must add up/);
    assert.throws(() => allocateManually(line(-10_000n), [items[0]!], 500n, 'x'), /must add up/);
    assert.throws(() => allocateManually(line(20_000n), [items[0]!], 500n, 'x'), /must add up/);
  });
});

// The statement-import flow against the real store (both backends), outbox and audit log,
// with a fake Odoo poster; the sandbox Odoo end to end is in statement-import-e2e.test.ts.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { recordAudit } from '../src/audit/index.ts';
import {
  fixedClock,
  RetryAfterError,
  sequentialIds,
  type StatementLinePoster,
  type StatementLinePosting,
} from '../src/domain/index.ts';
import { listEvents, publish } from '../src/events/index.ts';
import {
  getImport,
  importStatementFile,
  listImports,
  postPendingLines,
  readPostingBacklog,
  type StatementImportDeps,
} from '../src/flows/statement-import/index.ts';
import { makeCamt } from './support/camt.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';

const IBAN = 'DE89370400440532013000';
const OTHER_IBAN = 'GB82WEST12345698765432';
const accounts = [{ id: 'demo-eur', entity: 'demo', iban: IBAN, currency: 'EUR', odooJournal: 'BNK1' }];
const entities = [{ id: 'demo', odooCompanyId: 1 }];
const enc = (s: string) => new TextEncoder().encode(s);

class FakePoster implements StatementLinePoster {
  calls: StatementLinePosting[][] = [];
  down = false;
  readonly booked = new Map<string, number>();
  async postStatementLines(
    _target: { companyId: number | undefined; journal: string | number },
    lines: StatementLinePosting[],
  ) {
    if (this.down) throw new RetryAfterError('ODOO_UNAVAILABLE', 'Odoo is down');
    this.calls.push(lines);
    return lines.map((l) => {
      const key = `${l.bankAccountId}|${l.statementId}|${l.entryRef}`;
      if (l.paymentRef.includes('REJECT'))
        return { lineId: l.lineId, status: 'failed' as const, error: 'ValidationError: rejected by Odoo' };
      if (!this.booked.has(key)) this.booked.set(key, this.booked.size + 1);
      return { lineId: l.lineId, status: 'posted' as const, odooId: this.booked.get(key)! };
    });
  }
}

for (const backend of backends) {
  describe(`statement import on ${backend}`, () => {
    let t: TestDb;
    let deps: StatementImportDeps;
    let poster: FakePoster;
    const clock = fixedClock(Date.parse('2026-11-22T08:00:00Z'));
    before(async () => {
      t = await createTestDb(backend);
    });
    after(async () => {
      await t.drop();
    });
    beforeEach(async () => {
      await t.db.exec('TRUNCATE statement_lines, bank_statements, statement_imports CASCADE');
      poster = new FakePoster();
      deps = {
        db: t.db,
        accounts,
        entities,
        clock,
        ids: sequentialIds(`${backend}${Date.now()}`),
        publish: (tx, e) => publish(tx, e, { clock }),
        audit: (tx, e) => recordAudit(tx, e),
      };
    });

    const postingDeps = () => ({ ...deps, poster, batchSize: 2 });

    const statement = makeCamt({
      iban: IBAN,
      statementId: 'STMT-1',
      entries: [
        {
          ref: 'B1',
          amount: '100.00',
          date: '2026-11-20',
          name: 'Customer A',
          iban: OTHER_IBAN,
          remittance: 'RF18539007547034',
        },
        { ref: 'B2', amount: '-25.50', date: '2026-11-20', name: 'Vendor B', remittance: 'Bill 7' },
        { amount: '3.10', date: '2026-11-20', remittance: 'interest' },
        { amount: '3.10', date: '2026-11-20', remittance: 'interest' },
        { ref: 'P1', amount: '9.99', date: '2026-11-20', status: 'PDNG', remittance: 'pending card' },
      ],
    });

    it('stores the statement, its booked lines, one event and one audit record in one go', async () => {
      const r = await importStatementFile(deps, {
        content: enc(statement),
        fileName: 'stmt.xml',
        source: 'api',
        actor: 'id_alice',
      });
      assert.equal(r.duplicate, false);
      assert.equal(r.statements.length, 1);
      assert.equal(r.statements[0]!.balanceCheck, 'balanced');
      assert.equal(r.statements[0]!.notBooked, 1);
      assert.equal(r.newLines, 4, 'two identical interest lines are two entries; the pending one waits');
      const events = await listEvents(t.db, {
        type: 'kontor.bank.statement.received.v1',
        correlationId: r.correlationId,
      });
      assert.equal(events.events.length, 1);
      const audit = await t.db.query<{ action: string; actor: string }>(
        `SELECT action, actor FROM kontor_audit WHERE resource_id = $1`,
        [r.importId],
      );
      assert.deepEqual(
        audit.rows.map((a) => [a.action, a.actor]),
        [['statement.imported', 'id_alice']],
      );
    });

    it('answers the same file twice with the first result and stores nothing new', async () => {
      const first = await importStatementFile(deps, { content: enc(statement), source: 'api', actor: 'a' });
      const second = await importStatementFile(deps, {
        content: enc(statement),
        source: 'folder',
        actor: 'b',
      });
      assert.equal(second.duplicate, true);
      assert.equal(second.importId, first.importId);
      const n = await t.db.query<{ n: bigint }>('SELECT count(*) AS n FROM statement_lines');
      assert.equal(n.rows[0]?.n, 4n);
    });

    it('imports each entry once when a camt.052 and then a camt.053 report the same bookings', async () => {
      const intraday = makeCamt({
        kind: '052',
        iban: IBAN,
        statementId: 'RPT-1',
        entries: [
          { ref: 'B1', amount: '100.00', date: '2026-11-20', remittance: 'RF18539007547034' },
          { amount: '3.10', date: '2026-11-20', remittance: 'interest' },
        ],
      });
      const a = await importStatementFile(deps, { content: enc(intraday), source: 'api', actor: 'a' });
      assert.equal(a.newLines, 2);
      const b = await importStatementFile(deps, { content: enc(statement), source: 'api', actor: 'a' });
      assert.equal(b.newLines, 2, 'B2 and the second interest line are new');
      assert.equal(b.duplicateLines, 2);
    });

    it('rejects an unknown account, a wrong currency, an unbalanced or a broken file, storing nothing', async () => {
      const unknown = makeCamt({
        iban: OTHER_IBAN,
        statementId: 'X',
        entries: [{ amount: '1.00', date: '2026-11-20' }],
      });
      await assert.rejects(
        importStatementFile(deps, { content: enc(unknown), source: 'api', actor: 'a' }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'STATEMENT_ACCOUNT_UNKNOWN');
          assert.match(e.message, /GB82\*+5432, which is not a configured bank account/);
          return true;
        },
      );
      const usd = makeCamt({
        iban: IBAN,
        currency: 'USD',
        statementId: 'U',
        entries: [{ amount: '1.00', date: '2026-11-20' }],
      });
      await assert.rejects(importStatementFile(deps, { content: enc(usd), source: 'api', actor: 'a' }), {
        code: 'STATEMENT_CURRENCY_MISMATCH',
      });
      const unbalanced = makeCamt({
        iban: IBAN,
        statementId: 'UB',
        closing: '5.00',
        entries: [{ amount: '1.00', date: '2026-11-20' }],
      });
      await assert.rejects(
        importStatementFile(deps, { content: enc(unbalanced), source: 'api', actor: 'a' }),
        { code: 'STATEMENT_UNBALANCED' },
      );
      await assert.rejects(
        importStatementFile(deps, {
          content: enc(statement.slice(0, statement.length / 2)),
          source: 'api',
          actor: 'a',
        }),
        { code: 'STATEMENT_PARSE_FAILED' },
      );
      await assert.rejects(importStatementFile(deps, { content: enc('hello'), source: 'api', actor: 'a' }), {
        code: 'STATEMENT_FORMAT_UNKNOWN',
      });
      const counts = await t.db.query<{ i: bigint; s: bigint; l: bigint }>(
        'SELECT (SELECT count(*) FROM statement_imports) AS i, (SELECT count(*) FROM bank_statements) AS s, (SELECT count(*) FROM statement_lines) AS l',
      );
      assert.deepEqual(counts.rows[0], { i: 0n, s: 0n, l: 0n });
    });

    it('stores a file statement by statement, and none of it when a later statement fails', async () => {
      const stmtOf = (doc: string) => doc.slice(doc.indexOf('<Stmt>'), doc.lastIndexOf('</Stmt>') + 7);
      const two = (first: string, second: string) =>
        first.replace(stmtOf(first), stmtOf(first) + stmtOf(second));
      const first = makeCamt({
        iban: IBAN,
        statementId: 'MULTI-1',
        entries: [{ ref: 'M1', amount: '7.00', date: '2026-11-20' }],
      });
      const unbalanced = makeCamt({
        iban: IBAN,
        statementId: 'MULTI-BAD',
        closing: '5.00',
        entries: [{ ref: 'M2', amount: '1.00', date: '2026-11-21' }],
      });
      await assert.rejects(
        importStatementFile(deps, { content: enc(two(first, unbalanced)), source: 'api', actor: 'a' }),
        { code: 'STATEMENT_UNBALANCED' },
      );
      const counts = await t.db.query<{ i: bigint; s: bigint; l: bigint }>(
        'SELECT (SELECT count(*) FROM statement_imports) AS i, (SELECT count(*) FROM bank_statements) AS s, (SELECT count(*) FROM statement_lines) AS l',
      );
      assert.deepEqual(counts.rows[0], { i: 0n, s: 0n, l: 0n }, 'the first statement is rolled back too');
      const second = makeCamt({
        iban: IBAN,
        statementId: 'MULTI-2',
        entries: [{ ref: 'M3', amount: '2.00', date: '2026-11-21' }],
      });
      const r = await importStatementFile(deps, {
        content: enc(two(first, second)),
        source: 'api',
        actor: 'a',
      });
      assert.deepEqual(
        r.statements.map((x) => [x.statementId, x.newLines]),
        [
          ['MULTI-1', 1],
          ['MULTI-2', 1],
        ],
      );
    });

    it('posts pending lines in batches, keeps them pending while Odoo is down, and never posts twice', async () => {
      const r = await importStatementFile(deps, { content: enc(statement), source: 'api', actor: 'a' });
      poster.down = true;
      await assert.rejects(postPendingLines(postingDeps()), { code: 'ODOO_UNAVAILABLE' });
      assert.deepEqual(await readPostingBacklog(t.db), [
        { bankAccountId: 'demo-eur', pending: 4, oldest: '2026-11-20' },
      ]);

      poster.down = false;
      const posted = await postPendingLines(postingDeps());
      assert.equal(posted.posted, 4);
      assert.deepEqual(posted.completedImports, [r.importId]);
      assert.equal(poster.calls.length, 2, 'batches of two');
      const again = await postPendingLines(postingDeps());
      assert.equal(again.posted, 0);
      assert.equal(poster.calls.length, 2, 'nothing sent again');

      const detail = await getImport(t.db, r.importId);
      assert.equal(detail?.status, 'posted');
      assert.ok(detail?.statementLines.every((l) => l.odoo.status === 'posted' && l.odoo.lineId !== null));
      const events = await listEvents(t.db, {
        type: 'kontor.bank.statement.posted.v1',
        correlationId: r.correlationId,
      });
      assert.equal(events.events.length, 1);
      const list = await listImports(t.db);
      assert.equal(list.data[0]?.lines.posted, 4);
    });

    it('isolates a line Odoo rejects and marks the import partially posted', async () => {
      const withBad = makeCamt({
        iban: IBAN,
        statementId: 'S-BAD',
        entries: [
          { ref: 'G1', amount: '1.00', date: '2026-11-21', remittance: 'good' },
          { ref: 'R1', amount: '2.00', date: '2026-11-21', remittance: 'REJECT me' },
        ],
      });
      const r = await importStatementFile(deps, { content: enc(withBad), source: 'api', actor: 'a' });
      const result = await postPendingLines(postingDeps());
      assert.deepEqual([result.posted, result.failed], [1, 1]);
      const detail = await getImport(t.db, r.importId);
      assert.equal(detail?.status, 'partially_posted');
      assert.match(
        detail?.statementLines.find((l) => l.odoo.status === 'failed')?.odoo.error ?? '',
        /rejected by Odoo/,
      );
    });
  });
}

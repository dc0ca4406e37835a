// The outbox on both backends: schema violations write nothing, and seq order is commit order
// even with concurrent publishers, so a consumer reading after its position never misses one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../src/domain/index.ts';
import { listEvents, publish } from '../src/events/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { countRows, createTestCatalog, TEST_TYPE } from './support/events.ts';

const catalog = createTestCatalog();

for (const backend of backends) {
  describe(`outbox on ${backend}`, () => {
    let t: TestDb;
    before(async () => {
      t = await createTestDb(backend);
      await t.db.exec('CREATE TABLE orders (id text PRIMARY KEY)');
    });
    after(() => t.drop());

    it('rejects a schema violation at publish and writes nothing', async () => {
      await assert.rejects(
        t.db.transaction(async (tx) => {
          await tx.query(`INSERT INTO orders VALUES ('o-bad')`);
          await publish(tx, { type: 'kontor.bank.statement.received.v1', data: { statementId: 's1', bankAccountId: 'b1', format: 'camt053', lineCount: -1 } });
        }),
        (e: unknown) => e instanceof ValidationError && e.code === 'EVENT_SCHEMA_VIOLATION',
      );
      // Even a caller that swallows the error has nothing in the outbox.
      await t.db.transaction(async (tx) => {
        await assert.rejects(publish(tx, { type: TEST_TYPE, data: { n: 'one' } }, { catalog }), ValidationError);
        await assert.rejects(publish(tx, { type: 'kontor.unknown.thing.v1', data: {} }, { catalog }), ValidationError);
      });
      assert.equal(await countRows(t.db, 'kontor_events'), 0);
      assert.equal(await countRows(t.db, 'orders'), 0);
    });

    it('commits the business write and its event together', async () => {
      await t.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO orders VALUES ('o-1')`);
        await publish(tx, { type: TEST_TYPE, data: { n: 1 }, id: 'o-1-created' }, { catalog });
      });
      const { events } = await listEvents(t.db, { type: TEST_TYPE });
      assert.deepEqual(events.map((e) => e.event.id), ['o-1-created']);
      assert.equal(events[0]!.event.specversion, '1.0');
      assert.equal(typeof events[0]!.sequence, 'bigint');
    });

    it('assigns sequences in commit order under concurrent publishers', async () => {
      const seen: bigint[] = [];
      let stop = false;
      // A reader that advances a cursor like the embedded bus does: it must never see a gap fill in later.
      const reader = (async () => {
        let cursor = 0n;
        while (!stop) {
          const { events } = await listEvents(t.db, { after: cursor, limit: 1000 });
          for (const e of events) {
            seen.push(e.sequence);
            cursor = e.sequence;
          }
          await new Promise((r) => setTimeout(r, 1));
        }
        const { events } = await listEvents(t.db, { after: cursor, limit: 1000 });
        seen.push(...events.map((e) => e.sequence));
      })();
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          t.db.transaction(async (tx) => {
            await publish(tx, { type: TEST_TYPE, data: { n: i } }, { catalog });
            await new Promise((r) => setTimeout(r, Math.random() * 5));
            await tx.query(`INSERT INTO orders VALUES ($1)`, [`c-${i}`]);
          }),
        ),
      );
      stop = true;
      await reader;
      const all = (await listEvents(t.db, { limit: 1000 })).events.map((e) => e.sequence);
      assert.deepEqual(seen, all);
    });
  });
}

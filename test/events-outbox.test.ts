// The outbox on both backends: schema violations write nothing, and a consumer reading after its
// position never misses an event whose transaction commits late.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../src/domain/index.ts';
import { listEvents, publish } from '../src/events/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { countRows, createTestCatalog, startTestBus, TEST_TYPE, waitFor } from './support/events.ts';

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
          await publish(tx, {
            type: 'kontor.bank.statement.received.v1',
            data: { statementId: 's1', bankAccountId: 'b1', format: 'camt053', lineCount: -1 },
          });
        }),
        (e: unknown) => e instanceof ValidationError && e.code === 'EVENT_SCHEMA_VIOLATION',
      );
      // Even a caller that swallows the error has nothing in the outbox.
      await t.db.transaction(async (tx) => {
        await assert.rejects(
          publish(tx, { type: TEST_TYPE, data: { n: 'one' } }, { catalog }),
          ValidationError,
        );
        await assert.rejects(
          publish(tx, { type: 'kontor.unknown.thing.v1', data: {} }, { catalog }),
          ValidationError,
        );
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
      assert.deepEqual(
        events.map((e) => e.event.id),
        ['o-1-created'],
      );
      assert.equal(events[0]!.event.specversion, '1.0');
      assert.equal(typeof events[0]!.sequence, 'bigint');
    });

    it('never lets a cursor skip an event that commits after a later sequence', async () => {
      const { bus, dispose } = await startTestBus(t.db, 'embedded', { pollIntervalMs: 60_000 });
      const got: string[] = [];
      const h = await bus.startConsumer({
        name: 'c-concurrent',
        types: [TEST_TYPE],
        handle: async (e) => void got.push(e.id),
      });
      // Publishers commit in random order relative to their seq; the first commits last of all.
      const slow = t.db.transaction(async (tx) => {
        await publish(tx, { type: TEST_TYPE, data: { n: -1 }, id: 'slow' }, { catalog });
        await new Promise((r) => setTimeout(r, 300));
      });
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          t.db.transaction(async (tx) => {
            await publish(tx, { type: TEST_TYPE, data: { n: i }, id: `fast-${i}` }, { catalog });
            await new Promise((r) => setTimeout(r, Math.random() * 5));
            await tx.query(`INSERT INTO orders VALUES ($1)`, [`c-${i}`]);
          }),
        ),
      );
      await slow;
      await waitFor(() => got.length >= 32, 10_000, 'all delivered');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        [...got].sort(),
        ['o-1-created', 'slow', ...Array.from({ length: 30 }, (_, i) => `fast-${i}`)].sort(),
      );
      await h.stop();
      await dispose();
    });
  });
}

// Batch handlers: the claimed events of one transaction handled together, each with its own
// idempotency record; a failing batch rolls back and its events are retried one by one, so only
// the poison event dead-letters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, NonRetryableError } from '../src/domain/index.ts';
import { listDeadLetters, publishMany, type EventBus } from '../src/events/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { buses, countRows, createTestCatalog, startTestBus, TEST_TYPE, waitFor } from './support/events.ts';

const catalog = createTestCatalog();

for (const backend of backends) {
  for (const kind of buses) {
    describe(`batch handler: ${kind} on ${backend}`, () => {
      let t: TestDb;
      let bus: EventBus;
      let dispose: () => Promise<void>;

      before(async () => {
        t = await createTestDb(backend);
        await t.db.exec('CREATE TABLE effects (event_id text NOT NULL, n integer NOT NULL)');
        ({ bus, dispose } = await startTestBus(t.db, kind));
      });
      after(async () => {
        await dispose();
        await t.drop();
      });

      it('writes each event once in multi-row statements and dead-letters only the poison event', async () => {
        const sizes: number[] = [];
        const settled = new Set<string>();
        const h = await bus.startConsumer({
          name: 'batcher',
          types: [TEST_TYPE],
          batchSize: 10,
          concurrency: 2,
          maxAttempts: 2,
          backoff: { baseMs: 5, maxMs: 10 },
          handleBatch: async (events, { tx, deliveries }) => {
            assert.equal(deliveries.length, events.length);
            sizes.push(events.length);
            const ns = events.map((e) => (e.data as { n: number }).n);
            await tx.query('INSERT INTO effects (event_id, n) SELECT * FROM unnest($1::text[], $2::int[])', [
              events.map((e) => e.id),
              ns,
            ]);
            if (ns.includes(13)) throw new NonRetryableError(ErrorCodes.EVENT_HANDLER_FAILED, 'poison 13');
          },
          onSettled: (e) => settled.add(e.id),
        });
        await t.db.transaction((tx) =>
          publishMany(
            tx,
            Array.from({ length: 40 }, (_, n) => ({ type: TEST_TYPE, id: `b-${n}`, data: { n } })),
            { catalog },
          ),
        );
        await waitFor(() => settled.size === 40, 10_000, 'forty settled events');
        assert.equal(await countRows(t.db, 'effects'), 39);
        assert.equal(await countRows(t.db, 'effects', `n = 13`), 0);
        const r = await t.db.query<{ n: bigint }>(
          'SELECT count(*) AS n FROM (SELECT event_id FROM effects GROUP BY event_id HAVING count(*) > 1) d',
        );
        assert.equal(Number(r.rows[0]!.n), 0, 'no event written twice');
        const dead = await listDeadLetters(t.db, { consumer: 'batcher' });
        assert.deepEqual(
          dead.map((d) => d.eventId),
          ['b-13'],
        );
        assert.ok(
          sizes.some((s) => s > 1),
          `some batches hold several events: ${sizes.join(',')}`,
        );
        await h.stop();
      });

      it('refuses a consumer with both or neither of handle and handleBatch', async () => {
        await assert.rejects(bus.startConsumer({ name: 'neither', types: [TEST_TYPE] }), {
          code: ErrorCodes.VALIDATION_FAILED,
        });
        await assert.rejects(
          bus.startConsumer({
            name: 'both',
            types: [TEST_TYPE],
            handle: async () => undefined,
            handleBatch: async () => undefined,
          }),
          { code: ErrorCodes.VALIDATION_FAILED },
        );
      });
    });
  }
}

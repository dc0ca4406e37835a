// Retention of the event log: old events go once every consumer has passed them (embedded: stored
// positions; NATS: relayed to the stream) and no dead letter refers to them; young ones stay.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NonRetryableError, ErrorCodes } from '../src/domain/index.ts';
import {
  listDeadLetters,
  publishMany,
  pruneEventLog,
  pruneIdempotencyRecords,
  startEventBus,
  type EventBus,
} from '../src/events/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { buses, createTestCatalog, startTestBus, TEST_TYPE, waitFor } from './support/events.ts';

const catalog = createTestCatalog();
const DAY = 24 * 60 * 60 * 1000;

const ids = async (t: TestDb) =>
  (await t.db.query<{ id: string }>('SELECT id FROM kontor_events ORDER BY seq')).rows.map((r) => r.id);

for (const backend of backends) {
  for (const kind of buses) {
    describe(`event log retention: ${kind} on ${backend}`, () => {
      let t: TestDb;
      let bus: EventBus;
      let options: Awaited<ReturnType<typeof startTestBus>>['options'];
      let dispose: () => Promise<void>;

      before(async () => {
        t = await createTestDb(backend);
        ({ bus, options, dispose } = await startTestBus(t.db, kind));
      });
      after(async () => {
        await dispose();
        await t.drop();
      });

      it('deletes old events every consumer passed, keeps dead-lettered, unpassed and young ones', async () => {
        const settled = new Set<string>();
        const h = await bus.startConsumer({
          name: 'keeper',
          types: [TEST_TYPE],
          handle: async (e) => {
            if ((e.data as { n: number }).n === 99)
              throw new NonRetryableError(ErrorCodes.EVENT_HANDLER_FAILED, 'poison');
          },
          onSettled: (e) => settled.add(e.id),
        });
        await t.db.transaction((tx) =>
          publishMany(
            tx,
            [
              { type: TEST_TYPE, id: 'old-1', data: { n: 1 } },
              { type: TEST_TYPE, id: 'old-2', data: { n: 2 } },
              { type: TEST_TYPE, id: 'old-dead', data: { n: 99 } },
              { type: TEST_TYPE, id: 'young', data: { n: 3 } },
            ],
            { catalog },
          ),
        );
        await waitFor(() => settled.size === 4, 10_000, 'four settled events');
        await h.stop(); // stores the embedded position
        if (kind === 'nats')
          await waitFor(
            async () =>
              (
                await t.db.query(
                  `SELECT 1 FROM kontor_events e, kontor_consumers r
                   WHERE r.name = '$relay' AND (e.txid::text::bigint, e.seq) > (r.position_txid, r.position)`,
                )
              ).rows.length === 0,
            10_000,
            'relayed',
          );
        assert.equal((await listDeadLetters(t.db, { consumer: 'keeper' })).length, 1);
        await t.db.query(
          `UPDATE kontor_events SET time = now() - interval '40 days', recorded_at = now() - interval '40 days'
           WHERE id <> 'young'`,
        );

        // Not yet passed by everything that reads the log: nothing goes.
        if (kind === 'embedded') {
          await t.db.query(`INSERT INTO kontor_consumers (name) VALUES ('lagging')`);
          assert.equal(await pruneEventLog(t.db, { bus: kind, maxAgeMs: 30 * DAY }), 0);
          await t.db.query(`DELETE FROM kontor_consumers WHERE name = 'lagging'`);
        } else {
          // The relay's position just before old-2 (all four events came in one transaction).
          const relay = await t.db.query<{ position_txid: bigint; position: bigint }>(
            `SELECT position_txid, position FROM kontor_consumers WHERE name = '$relay'`,
          );
          await t.db.query(
            `UPDATE kontor_consumers SET (position_txid, position) =
               (SELECT txid::text::bigint, seq - 1 FROM kontor_events WHERE id = 'old-2')
             WHERE name = '$relay'`,
          );
          assert.equal(await pruneEventLog(t.db, { bus: kind, maxAgeMs: 30 * DAY }), 1);
          assert.deepEqual(await ids(t), ['old-2', 'old-dead', 'young']);
          await t.db.query(
            `UPDATE kontor_consumers SET position_txid = $1, position = $2 WHERE name = '$relay'`,
            [String(relay.rows[0]!.position_txid), String(relay.rows[0]!.position)],
          );
        }
        // Younger than the age: nothing goes.
        assert.equal(await pruneEventLog(t.db, { bus: kind, maxAgeMs: 50 * DAY }), 0);

        // The bus prunes by itself, periodically.
        const pruning = await startEventBus(t.db, {
          ...options,
          retention: { maxAgeMs: 30 * DAY, intervalMs: 100 },
        });
        try {
          await waitFor(async () => (await ids(t)).length === 2, 10_000, 'the periodic prune');
        } finally {
          await pruning.close();
        }
        assert.deepEqual(await ids(t), ['old-dead', 'young']);
      });

      it('embedded: drops the idempotency records of old events gone from the log, keeps the rest', async () => {
        const done = async () =>
          (
            await t.db.query<{ event_id: string }>(
              `SELECT event_id FROM kontor_consumer_done WHERE consumer = 'recorder' AND event_id LIKE 'rec-%' ORDER BY event_id`,
            )
          ).rows.map((r) => r.event_id);
        const h = await bus.startConsumer({
          name: 'recorder',
          types: [TEST_TYPE],
          handle: async () => undefined,
        });
        const events = Array.from({ length: 7 }, (_, i) => ({
          type: TEST_TYPE,
          id: `rec-${i}`,
          data: { n: i },
        }));
        await t.db.transaction((tx) => publishMany(tx, events, { catalog }));
        await waitFor(async () => (await done()).length === 7, 10_000, 'seven records');
        await h.stop();
        // rec-0..4 are old; rec-0..2 are gone from the log, rec-3 and rec-4 are still in it.
        await t.db.query(
          `UPDATE kontor_consumer_done SET done_at = now() - interval '40 days'
           WHERE consumer = 'recorder' AND event_id = ANY($1::text[])`,
          [['rec-0', 'rec-1', 'rec-2', 'rec-3', 'rec-4']],
        );
        await t.db.query(`DELETE FROM kontor_events WHERE id = ANY($1::text[])`, [
          ['rec-0', 'rec-1', 'rec-2', 'rec-5'],
        ]);
        // Pages of 2 records: the walk must cross pages (and other consumers' records) to find all.
        assert.equal(await pruneIdempotencyRecords(t.db, { maxAgeMs: 30 * DAY, batchSize: 2 }), 3);
        // Young (rec-5, gone but recent) and still-logged (rec-3, rec-4, rec-6) records stay.
        assert.deepEqual(await done(), ['rec-3', 'rec-4', 'rec-5', 'rec-6']);
        assert.equal(await pruneIdempotencyRecords(t.db, { maxAgeMs: 30 * DAY }), 0);
        if (kind === 'embedded') {
          // The embedded bus prunes them by itself with the log.
          await t.db.query(
            `UPDATE kontor_consumer_done SET done_at = now() - interval '40 days' WHERE event_id = 'rec-5'`,
          );
          const pruning = await startEventBus(t.db, {
            ...options,
            retention: { maxAgeMs: 30 * DAY, intervalMs: 100 },
          });
          try {
            await waitFor(async () => !(await done()).includes('rec-5'), 10_000, 'the periodic prune');
          } finally {
            await pruning.close();
          }
        }
      });

      it('refuses a negative age with a typed error', async () => {
        await assert.rejects(pruneEventLog(t.db, { bus: kind, maxAgeMs: -1 }), {
          code: ErrorCodes.CONFIG_INVALID,
        });
      });
    });
  }
}

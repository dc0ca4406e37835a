// The event metrics move with what the bus does: publishes (committed only), settled deliveries by
// outcome, retries, dead letters, replays, and each running consumer's lag read at scrape time —
// on both buses and both database backends.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  listDeadLetters,
  publish,
  publishMany,
  replayDeadLetter,
  type EventBus,
} from '../src/events/index.ts';
import { getMetricsRegistry } from '../src/observability/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import {
  buses,
  countRows,
  createTestCatalog,
  metricValue as metric,
  startTestBus,
  TEST_TYPE,
  waitFor,
} from './support/events.ts';

const catalog = createTestCatalog();

/** Waits until the series reaches `expected`, then checks it did not pass it. */
async function expectMetric(name: string, labels: Record<string, string>, expected: number): Promise<void> {
  await waitFor(
    async () => (await metric(name, labels)) >= expected,
    30_000,
    `${name}${JSON.stringify(labels)} = ${expected}`,
  );
  assert.equal(await metric(name, labels), expected, `${name}${JSON.stringify(labels)}`);
}

for (const backend of backends) {
  for (const kind of buses) {
    describe(`event metrics: ${kind} on ${backend}`, () => {
      let t: TestDb;
      let bus: EventBus;
      let dispose: () => Promise<void>;

      before(async () => {
        t = await createTestDb(backend);
        await t.db.exec(`CREATE TABLE effects (event_id text PRIMARY KEY)`);
        ({ bus, dispose } = await startTestBus(t.db, kind));
      });
      after(async () => {
        await dispose();
        await t.drop();
      });

      it('counts a poison event through retries, dead letter and replay', async () => {
        const consumer = `m-poison-${kind}-${backend}`;
        const published = await metric('kontor_events_published_total', { type: TEST_TYPE });
        let fixed = false;
        const h = await bus.startConsumer({
          name: consumer,
          types: [TEST_TYPE],
          maxAttempts: 3,
          backoff: { baseMs: 5, maxMs: 20 },
          handle: async (e, ctx) => {
            if ((e.data as { n: number }).n === 666 && !fixed) throw new Error('cannot handle 666');
            await ctx.tx.query('INSERT INTO effects (event_id) VALUES ($1)', [e.id]);
          },
        });
        await t.db.transaction((tx) =>
          publishMany(
            tx,
            [
              { type: TEST_TYPE, data: { n: 666 }, id: `${consumer}-poison` },
              { type: TEST_TYPE, data: { n: 1 }, id: `${consumer}-good` },
            ],
            { catalog },
          ),
        );
        await assert.rejects(
          t.db.transaction(async (tx) => {
            await publish(
              tx,
              { type: TEST_TYPE, data: { n: 2 }, id: `${consumer}-rolled-back` },
              { catalog },
            );
            throw new Error('business write failed');
          }),
          /business write failed/,
        );
        // Committed publishes only: the rolled-back one is not counted.
        assert.equal(await metric('kontor_events_published_total', { type: TEST_TYPE }), published + 2);

        await expectMetric('kontor_dead_letters_total', { consumer }, 1);
        await expectMetric('kontor_events_consumed_total', { consumer, outcome: 'dead' }, 1);
        await expectMetric('kontor_events_consumed_total', { consumer, outcome: 'done' }, 1);
        // Three attempts: two retries after a handler failure, none for the database.
        assert.equal(await metric('kontor_event_retries_total', { consumer, reason: 'handler' }), 2);
        assert.equal(await metric('kontor_event_retries_total', { consumer, reason: 'database' }), 0);
        assert.equal(await metric('kontor_events_replayed_total', { consumer, outcome: 'done' }), 0);

        // What Prometheus reads: the exposition text of the registry behind GET /metrics.
        const text = await getMetricsRegistry().metrics();
        assert.match(text, new RegExp(`^kontor_dead_letters_total\\{consumer="${consumer}"\\} 1$`, 'm'));
        assert.match(
          text,
          new RegExp(`^kontor_event_retries_total\\{consumer="${consumer}",reason="handler"\\} 2$`, 'm'),
        );

        fixed = true;
        const [dl] = await listDeadLetters(t.db, { consumer });
        await replayDeadLetter(t.db, dl!.id);
        await expectMetric('kontor_events_replayed_total', { consumer, outcome: 'done' }, 1);
        await expectMetric('kontor_events_consumed_total', { consumer, outcome: 'done' }, 2);
        assert.equal(await metric('kontor_dead_letters_total', { consumer }), 1);
        assert.equal(await countRows(t.db, 'effects', `event_id = '${consumer}-poison'`), 1);
        await h.stop();
      });

      it("reports each running consumer's lag when scraped, and forgets a stopped one", async () => {
        const consumer = `m-lag-${kind}-${backend}`;
        // Held by failing tries with a backoff, not by a transaction left open (on PGlite that would
        // hold the one connection, and the lag query with it).
        let held = true;
        const h = await bus.startConsumer({
          name: consumer,
          types: [TEST_TYPE],
          maxAttempts: 1_000,
          backoff: { baseMs: 50, maxMs: 50 },
          handle: async (e, ctx) => {
            if (held) throw new Error('held');
            await ctx.tx.query('INSERT INTO effects (event_id) VALUES ($1) ON CONFLICT DO NOTHING', [e.id]);
          },
        });
        await t.db.transaction((tx) =>
          publishMany(
            tx,
            [1, 2, 3].map((n) => ({ type: TEST_TYPE, data: { n }, id: `${consumer}-${n}` })),
            { catalog },
          ),
        );
        // The consumer is new: every event of its type in the log waits for it.
        const all = await countRows(t.db, 'kontor_events', `type = '${TEST_TYPE}'`);
        assert.ok(all >= 3);
        await expectMetric('kontor_consumer_lag_events', { consumer }, all);
        held = false;
        await waitFor(
          async () => (await metric('kontor_consumer_lag_events', { consumer })) === 0,
          30_000,
          'lag 0',
        );
        await h.stop();
        const { values } = await getMetricsRegistry().getSingleMetric('kontor_consumer_lag_events')!.get();
        assert.ok(
          !values.some((v) => v.labels.consumer === consumer),
          'a stopped consumer has no lag series',
        );
      });
    });
  }
}

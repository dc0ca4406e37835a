// The same consumer code and the same tests on both buses (embedded, NATS JetStream) and both
// database backends (PGlite, PostgreSQL).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NonRetryableError } from '../src/domain/index.ts';
import {
  getDeadLetter,
  listDeadLetters,
  listEvents,
  publish,
  publishMany,
  replayDeadLetter,
  requestConsumerReplay,
  type CloudEvent,
  type ConsumerContext,
  type EventBus,
} from '../src/events/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { buses, countRows, createTestCatalog, startTestBus, TEST_TYPE, waitFor } from './support/events.ts';

const catalog = createTestCatalog();

for (const backend of backends) {
  for (const kind of buses) {
    describe(`event bus: ${kind} on ${backend}`, () => {
      let t: TestDb;
      let bus: EventBus;
      let dispose: () => Promise<void>;

      before(async () => {
        t = await createTestDb(backend);
        await t.db.exec(
          `CREATE TABLE effects (id serial PRIMARY KEY, consumer text NOT NULL, event_id text NOT NULL, key text, n integer)`,
        );
        ({ bus, dispose } = await startTestBus(t.db, kind));
      });
      after(async () => {
        await dispose();
        await t.drop();
      });

      const insertEffect = async (consumer: string, e: CloudEvent, ctx: ConsumerContext) => {
        const data = e.data as { n: number };
        await ctx.tx.query('INSERT INTO effects (consumer, event_id, key, n) VALUES ($1, $2, $3, $4)', [
          consumer,
          e.id,
          e.subject ?? null,
          data.n,
        ]);
      };

      it('delivers committed events once and never delivers a rolled-back one', async () => {
        const h = await bus.startConsumer({
          name: 'c-basic',
          types: [TEST_TYPE],
          handle: (e, ctx) => insertEffect('c-basic', e, ctx),
        });
        await t.db.transaction(async (tx) => {
          await publish(tx, { type: TEST_TYPE, data: { n: 1 }, id: 'basic-1' }, { catalog });
          await publishMany(
            tx,
            [2, 3].map((n) => ({ type: TEST_TYPE, data: { n }, id: `basic-${n}` })),
            { catalog },
          );
        });
        await assert.rejects(
          t.db.transaction(async (tx) => {
            await publish(tx, { type: TEST_TYPE, data: { n: 99 }, id: 'basic-rolled-back' }, { catalog });
            throw new Error('business write failed');
          }),
          /business write failed/,
        );
        await waitFor(
          async () => (await countRows(t.db, 'effects', `consumer = 'c-basic'`)) === 3,
          10_000,
          'three effects',
        );
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(await countRows(t.db, 'effects', `consumer = 'c-basic'`), 3);
        assert.equal(await countRows(t.db, 'kontor_events', `id = 'basic-rolled-back'`), 0);
        await waitFor(async () => (await h.readLag()).pending === 0, 5_000, 'lag 0');
        await h.stop();
      });

      it('keeps each consumer at its own position: a consumer started later gets the earlier events', async () => {
        const h = await bus.startConsumer({
          name: 'c-late',
          types: [TEST_TYPE],
          handle: (e, ctx) => insertEffect('c-late', e, ctx),
        });
        await waitFor(
          async () => (await countRows(t.db, 'effects', `consumer = 'c-late'`)) === 3,
          10_000,
          'late consumer catches up',
        );
        await h.stop();
      });

      it('keeps per-key order for an ordered consumer while keys run in parallel', async () => {
        const seen: string[] = [];
        const h = await bus.startConsumer({
          name: 'c-ordered',
          types: [TEST_TYPE],
          orderBy: 'subject',
          concurrency: 4,
          handle: async (e, ctx) => {
            await new Promise((r) => setTimeout(r, Math.random() * 4));
            seen.push(`${e.subject}:${(e.data as { n: number }).n}`);
            await insertEffect('c-ordered', e, ctx);
          },
        });
        await t.db.transaction((tx) =>
          publishMany(
            tx,
            Array.from({ length: 60 }, (_, i) => ({
              type: TEST_TYPE,
              subject: `acct-${i % 3}`,
              data: { n: 1000 + i },
            })),
            { catalog },
          ),
        );
        await waitFor(
          async () => (await countRows(t.db, 'effects', `consumer = 'c-ordered' AND n >= 1000`)) === 60,
          10_000,
          'ordered effects',
        );
        for (const key of ['acct-0', 'acct-1', 'acct-2']) {
          const ns = seen.filter((s) => s.startsWith(`${key}:`)).map((s) => Number(s.split(':')[1]));
          assert.deepEqual(
            ns,
            [...ns].sort((a, b) => a - b),
            `order of ${key}`,
          );
          assert.equal(ns.length, 20);
        }
        await h.stop();
      });

      it('bounds in-flight work and reports lag', async () => {
        let running = 0;
        let maxRunning = 0;
        let maxInFlight = 0;
        // The handler sleeps inside its transaction; on PGlite that serialises everything, so the
        // in-flight count is sampled synchronously rather than through a query.
        const h = await bus.startConsumer({
          name: 'c-bounded',
          types: [TEST_TYPE],
          concurrency: 2,
          maxInFlight: 4,
          handle: async (e, ctx) => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            await new Promise((r) => setTimeout(r, 5));
            running--;
            await insertEffect('c-bounded', e, ctx);
          },
        });
        const sampler = setInterval(() => (maxInFlight = Math.max(maxInFlight, h.inFlight)), 1);
        await waitFor(
          async () => (await countRows(t.db, 'effects', `consumer = 'c-bounded'`)) === 63,
          15_000,
          'bounded consumer done',
        );
        clearInterval(sampler);
        assert.ok(maxInFlight <= 4 && maxInFlight >= 2, `max in flight ${maxInFlight}`);
        assert.ok(maxRunning <= 2, `max running ${maxRunning}`);
        await waitFor(async () => (await h.readLag()).pending === 0, 5_000, 'lag 0');
        await h.stop();
        await t.db.transaction((tx) =>
          publishMany(
            tx,
            [1, 2, 3].map((n) => ({ type: TEST_TYPE, data: { n: 2000 + n } })),
            { catalog },
          ),
        );
        await waitFor(async () => (await h.readLag()).pending === 3, 5_000, 'lag 3 while stopped');
        const again = await bus.startConsumer({
          name: 'c-bounded',
          types: [TEST_TYPE],
          handle: (e, ctx) => insertEffect('c-bounded', e, ctx),
        });
        await waitFor(async () => (await again.readLag()).pending === 0, 10_000, 'lag back to 0');
        assert.equal(await countRows(t.db, 'effects', `consumer = 'c-bounded'`), 66);
        await again.stop();
      });

      it('dead-letters a poison event after N attempts with growing backoff, and replays it once fixed', async () => {
        let fixed = false;
        const h = await bus.startConsumer({
          name: 'c-poison',
          types: [TEST_TYPE],
          maxAttempts: 4,
          backoff: { baseMs: 40, maxMs: 1_000 },
          handle: async (e, ctx) => {
            if ((e.data as { n: number }).n === 666 && !fixed) throw new Error('cannot handle 666');
            await insertEffect('c-poison', e, ctx);
          },
        });
        await t.db.transaction((tx) =>
          publishMany(
            tx,
            [
              { type: TEST_TYPE, data: { n: 666 }, id: 'poison-1' },
              { type: TEST_TYPE, data: { n: 667 }, id: 'after-poison' },
            ],
            { catalog },
          ),
        );
        await waitFor(
          async () => (await listDeadLetters(t.db, { consumer: 'c-poison' })).length === 1,
          10_000,
          'dead letter',
        );
        const [dl] = await listDeadLetters(t.db, { consumer: 'c-poison' });
        assert.equal(dl!.eventId, 'poison-1');
        assert.equal(dl!.attempts, 4);
        assert.equal(dl!.status, 'dead');
        assert.match(dl!.lastError, /cannot handle 666/);
        assert.match(dl!.lastErrorStack ?? '', /events-bus\.test\.ts/);
        const gaps = dl!.attemptedAt.slice(1).map((d, i) => d.getTime() - dl!.attemptedAt[i]!.getTime());
        // Equal jitter: retry k waits between 40·2^(k-1)/2 and 40·2^(k-1) ms.
        gaps.forEach((g, i) => assert.ok(g >= 20 * 2 ** i - 2, `gap ${i} = ${g} ms`));
        // (Upper bounds are not checked: an attempt's own duration adds to its gap on a busy machine.)
        await waitFor(
          async () => (await countRows(t.db, 'effects', `event_id = 'after-poison'`)) === 1,
          5_000,
          'later event not blocked',
        );
        assert.equal((await getDeadLetter(t.db, dl!.id)).event?.event.id, 'poison-1');

        fixed = true;
        await replayDeadLetter(t.db, dl!.id);
        await waitFor(
          async () => (await getDeadLetter(t.db, dl!.id)).status === 'replayed',
          10_000,
          'replayed',
        );
        assert.equal(await countRows(t.db, 'effects', `event_id = 'poison-1'`), 1);
        await h.stop();
      });

      it('sends a NonRetryableError straight to dead letters', async () => {
        const h = await bus.startConsumer({
          name: 'c-nonretryable',
          types: [TEST_TYPE],
          maxAttempts: 5,
          handle: async () => {
            throw new NonRetryableError('EVENT_HANDLER_FAILED', 'rejected record');
          },
        });
        await waitFor(
          async () => (await listDeadLetters(t.db, { consumer: 'c-nonretryable' })).length > 0,
          10_000,
          'dead letters',
        );
        assert.ok(
          (await listDeadLetters(t.db, { consumer: 'c-nonretryable' })).every((d) => d.attempts === 1),
        );
        await h.stop();
      });

      it('replays a whole consumer from a sequence with effects still exactly once', async () => {
        const h = await bus.startConsumer({
          name: 'c-basic',
          types: [TEST_TYPE],
          handle: (e, ctx) => insertEffect('c-basic', e, ctx),
        });
        const before = await countRows(t.db, 'effects', `consumer = 'c-basic'`);
        const total = await countRows(t.db, 'kontor_events', `type = '${TEST_TYPE}'`);
        await waitFor(
          async () => (await countRows(t.db, 'effects', `consumer = 'c-basic'`)) === total,
          10_000,
          'caught up',
        );
        assert.ok(total > before);
        // Lose one effect together with its idempotency record (e.g. a restore): replay recovers just that one.
        await t.db.transaction(async (tx) => {
          await tx.query(`DELETE FROM effects WHERE consumer = 'c-basic' AND event_id = 'basic-2'`);
          await tx.query(
            `DELETE FROM kontor_consumer_done WHERE consumer = 'c-basic' AND event_id = 'basic-2'`,
          );
        });
        await requestConsumerReplay(t.db, { consumer: 'c-basic', fromSequence: 1 });
        await waitFor(
          async () =>
            (await countRows(t.db, 'effects', `consumer = 'c-basic' AND event_id = 'basic-2'`)) === 1,
          10_000,
          'recovered',
        );
        await waitFor(
          async () =>
            (await countRows(t.db, 'kontor_consumers', `name = 'c-basic' AND replay_from_seq IS NULL`)) === 1,
          10_000,
          'replay done',
        );
        assert.equal(await countRows(t.db, 'effects', `consumer = 'c-basic'`), total);
        const dup = await t.db.query(
          `SELECT event_id FROM effects WHERE consumer = 'c-basic' GROUP BY event_id HAVING count(*) > 1`,
        );
        assert.equal(dup.rows.length, 0);
        await h.stop();
      });

      it('lists the events of one business transaction by correlation id', async () => {
        await t.db.transaction(async (tx) => {
          await publish(tx, { type: TEST_TYPE, data: { n: 1 }, correlationId: 'corr-42' }, { catalog });
          await publish(tx, {
            type: 'kontor.bank.statement.received.v1',
            data: { statementId: 's1', bankAccountId: 'b1', format: 'camt053', lineCount: 3 },
            correlationId: 'corr-42',
          });
        });
        const { events } = await listEvents(t.db, { correlationId: 'corr-42' });
        assert.deepEqual(
          events.map((e) => e.event.type),
          [TEST_TYPE, 'kontor.bank.statement.received.v1'],
        );
        const page = await listEvents(t.db, { correlationId: 'corr-42', limit: 1 });
        assert.equal(page.events.length, 1);
        const next = await listEvents(t.db, { correlationId: 'corr-42', after: page.nextAfter! });
        assert.equal(next.events[0]!.event.type, 'kontor.bank.statement.received.v1');
      });
    });
  }
}

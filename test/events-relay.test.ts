// The NATS relay keeps one position (row `$relay` of kontor_consumers) instead of marking every
// row: it never passes a transaction that commits late, `relayed` is derived from it, and a new
// position starts after the rows an earlier version marked relayed_at (they are not sent again).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { getEvent, listEvents, publish, publishMany, startEventBus } from '../src/events/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import {
  buses,
  createTestBusOptions,
  createTestCatalog,
  deleteTestStream,
  natsUrl,
  TEST_TYPE,
  waitFor,
} from './support/events.ts';

const catalog = createTestCatalog();

async function streamMessages(stream: string): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  try {
    return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
  } finally {
    await nc.close();
  }
}

for (const backend of buses.includes('nats') ? backends : []) {
  describe(`nats relay position on ${backend}`, () => {
    let t: TestDb;
    before(async () => {
      t = await createTestDb(backend);
    });
    after(async () => {
      await t.drop();
    });

    it('starts after rows marked relayed_at by an earlier version and derives relayed for the rest', async () => {
      await t.db.transaction((tx) =>
        publishMany(
          tx,
          [1, 2, 3].map((n) => ({ type: TEST_TYPE, id: `old-${n}`, data: { n } })),
          { catalog },
        ),
      );
      await t.db.query(`UPDATE kontor_events SET relayed_at = now() WHERE id IN ('old-1', 'old-2')`);
      assert.equal((await getEvent(t.db, 'old-3'))!.relayed, false);
      const options = createTestBusOptions('nats', { retention: false });
      const bus = await startEventBus(t.db, options);
      try {
        const got: string[] = [];
        const h = await bus.startConsumer({
          name: 'c-relay',
          types: [TEST_TYPE],
          handle: async (e) => void got.push(e.id),
        });
        await t.db.transaction((tx) =>
          publish(tx, { type: TEST_TYPE, id: 'new-1', data: { n: 4 } }, { catalog }),
        );
        await waitFor(() => got.length >= 2, 10_000, 'old-3 and new-1 delivered');
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(got.sort(), ['new-1', 'old-3']);
        assert.equal(await streamMessages(options.streamName), 2);
        const { events } = await listEvents(t.db, { type: TEST_TYPE });
        assert.deepEqual(
          events.map((e) => [e.event.id, e.relayed, e.relayedAt !== null]),
          [
            ['old-1', true, true],
            ['old-2', true, true],
            ['old-3', true, false],
            ['new-1', true, false],
          ],
        );
        await h.stop();
      } finally {
        await bus.close();
        await deleteTestStream(options.streamName);
      }
    });

    it('never passes an event whose transaction commits after later ones', async () => {
      const options = createTestBusOptions('nats', { retention: false, pollIntervalMs: 60_000 });
      const bus = await startEventBus(t.db, options);
      try {
        const got = new Set<string>();
        const h = await bus.startConsumer({
          name: 'c-relay-late',
          types: [TEST_TYPE],
          handle: async (e) => void got.add(e.id),
        });
        const slow = t.db.transaction(async (tx) => {
          await publish(tx, { type: TEST_TYPE, data: { n: -1 }, id: 'slow' }, { catalog });
          await new Promise((r) => setTimeout(r, 300));
        });
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            t.db.transaction(async (tx) => {
              await publish(tx, { type: TEST_TYPE, data: { n: i }, id: `fast-${i}` }, { catalog });
              await new Promise((r) => setTimeout(r, Math.random() * 5));
            }),
          ),
        );
        await slow;
        await waitFor(() => got.has('slow') && got.size >= 21, 10_000, 'the late commit relayed too');
        const slowEvent = await getEvent(t.db, 'slow');
        assert.equal(slowEvent!.relayed, true);
        await h.stop();
      } finally {
        await bus.close();
        await deleteTestStream(options.streamName);
      }
    });
  });
}

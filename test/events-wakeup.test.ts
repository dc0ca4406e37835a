// How consumers learn about new events without polling: a publish in a process that runs a bus
// hints it directly (no NOTIFY inside the publishing transaction, which would serialise commits on
// PostgreSQL's notify lock), and the bus forwards one NOTIFY for other processes once the events
// are readable; a process without a bus (the CLI) notifies in its transaction. The buses here poll
// only every 60 s, so a delivery within seconds proves the wake-up path.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EVENTS_CHANNEL, publish, type CloudEvent, type EventBus } from '../src/events/index.ts';
import { openPostgres } from '../src/store/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import { buses, countRows, createTestCatalog, startTestBus, TEST_TYPE, waitFor } from './support/events.ts';

const catalog = createTestCatalog();

// Child mode: publish one event from a process that runs no bus, then exit.
if (process.env.KONTOR_WAKEUP_CHILD_URL !== undefined) {
  const db = await openPostgres({ url: process.env.KONTOR_WAKEUP_CHILD_URL });
  await db.transaction((tx) =>
    publish(tx, { type: TEST_TYPE, id: 'from-child', data: { n: 2 } }, { catalog }),
  );
  await db.close();
  process.exit(0);
}

async function publishFromChild(url: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, KONTOR_WAKEUP_CHILD_URL: url },
    stdio: 'inherit',
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, 'child publisher failed');
}

for (const backend of backends) {
  for (const kind of buses) {
    describe(`wake-ups: ${kind} on ${backend}`, () => {
      let t: TestDb;
      let bus: EventBus;
      let dispose: () => Promise<void>;
      const handled: string[] = [];

      before(async () => {
        t = await createTestDb(backend);
        await t.db.exec('CREATE TABLE effects (event_id text PRIMARY KEY)');
        ({ bus, dispose } = await startTestBus(t.db, kind, { pollIntervalMs: 60_000 }));
        await bus.startConsumer({
          name: 'wake',
          types: [TEST_TYPE],
          handle: async (e: CloudEvent, { tx }) => {
            await tx.query('INSERT INTO effects (event_id) VALUES ($1)', [e.id]);
          },
          onSettled: (e) => handled.push(e.id),
        });
      });
      after(async () => {
        await dispose();
        await t.drop();
      });

      it('delivers a publish of this process at once, and forwards one NOTIFY outside the transaction', async () => {
        const payloads: string[] = [];
        const unlisten = await t.db.listen(EVENTS_CHANNEL, (p) => payloads.push(p));
        try {
          // The publishing transaction stays open a while: the hint comes before the commit.
          await t.db.transaction(async (tx) => {
            await publish(tx, { type: TEST_TYPE, id: 'local', data: { n: 1 } }, { catalog });
            await new Promise((r) => setTimeout(r, 300));
          });
          await waitFor(() => handled.includes('local'), 5_000, 'the local event');
          await waitFor(() => payloads.length > 0, 5_000, 'a forwarded NOTIFY');
          assert.ok(
            payloads.every((p) => p.startsWith('events:')),
            `only the bus's forwarded notifications: ${payloads.join(',')}`,
          );
        } finally {
          await unlisten();
        }
        assert.equal(await countRows(t.db, 'effects', `event_id = 'local'`), 1);
      });

      it(
        'delivers at once what a process without a bus publishes (NOTIFY in its transaction)',
        { skip: backend !== 'postgres' },
        async () => {
          await publishFromChild(t.url!);
          await waitFor(() => handled.includes('from-child'), 5_000, 'the child event');
          assert.equal(await countRows(t.db, 'effects', `event_id = 'from-child'`), 1);
        },
      );
    });
  }
}

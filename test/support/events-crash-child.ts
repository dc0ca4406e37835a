/**
 * The child process of the crash tests: publishes numbered events (each with a business row, in
 * one transaction) and consumes them into crash_effects, until it is killed. With
 * CRASH_FINISH=1 it publishes the rest, waits until every event has its effect and exits 0.
 */
import { z } from 'zod';
import { EventCatalog, publishMany, startEventBus } from '../../src/events/index.ts';
import { migrate, openPglite, openPostgres, type Db } from '../../src/store/index.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const CRASH_TYPE = 'kontor.test.crash.published.v1';
const catalog = new EventCatalog().register({
  type: CRASH_TYPE,
  version: 1,
  owner: 'tests',
  description: 'One numbered event of the crash test.',
  schema: z.object({ n: z.number().int().positive() }),
});

const target = env('CRASH_DB');
const total = Number(env('CRASH_TOTAL'));
const finish = process.env.CRASH_FINISH === '1';
const db: Db = target.startsWith('postgres')
  ? await openPostgres({ url: target })
  : await openPglite({ dataDir: target });
await migrate(db);
await db.exec(`CREATE TABLE IF NOT EXISTS crash_orders (n integer PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS crash_effects (id bigserial PRIMARY KEY, event_id text NOT NULL, n integer NOT NULL)`);

const bus = await startEventBus(db, {
  url: process.env.CRASH_BUS === 'embedded' ? undefined : env('CRASH_BUS'),
  pollIntervalMs: 500,
  nats: {
    stream: process.env.CRASH_STREAM ?? 'KONTOR_EVENTS',
    subjectPrefix: process.env.CRASH_PREFIX ?? 'kontor.events',
    ackWaitMs: 1_000,
  },
  onError: () => undefined,
});
await bus.startConsumer({
  name: 'crash-effects',
  types: [CRASH_TYPE],
  batchSize: 4,
  concurrency: 4,
  maxAttempts: 1_000,
  backoff: { baseMs: 2, maxMs: 20 },
  handle: async (event, { tx }) => {
    await tx.query('INSERT INTO crash_effects (event_id, n) VALUES ($1, $2)', [
      event.id,
      (event.data as { n: number }).n,
    ]);
    // Failures after the effect's INSERT must roll it back with the idempotency record.
    if (Math.random() < Number(process.env.CRASH_FAIL_RATE ?? 0.05)) throw new Error('transient failure');
  },
});
process.stdout.write('ready\n');

const published = await db.query<{ n: number | null }>('SELECT max(n) AS n FROM crash_orders');
let next = (published.rows[0]?.n ?? 0) + 1;
while (next <= total) {
  const size = finish
    ? Math.min(50, total - next + 1)
    : Math.min(1 + Math.floor(Math.random() * 3), total - next + 1);
  const ns = Array.from({ length: size }, (_, i) => next + i);
  await db.transaction(async (tx) => {
    await tx.query('INSERT INTO crash_orders (n) SELECT unnest($1::int[])', [ns]);
    await publishMany(
      tx,
      ns.map((n) => ({ type: CRASH_TYPE, id: `crash-${n}`, subject: `k${n % 5}`, data: { n } })),
      { catalog },
    );
  });
  next += size;
  if (!finish) await new Promise((r) => setTimeout(r, 2));
}
if (finish) {
  for (;;) {
    const r = await db.query<{ n: bigint }>('SELECT count(DISTINCT event_id) AS n FROM crash_effects');
    if (Number(r.rows[0]!.n) >= total) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await bus.close();
  await db.close();
  process.stdout.write('finished\n');
  process.exit(0);
}
// Published everything before being killed: keep consuming until the parent kills us.
await new Promise(() => undefined);

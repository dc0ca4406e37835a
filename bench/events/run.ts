/**
 * Event backbone benchmark: publish-and-consume BENCH_EVENTS events durably (each consumer doing
 * one small INSERT) on (a) embedded PGlite, (b) PostgreSQL + in-process bus, (c) PostgreSQL + NATS
 * JetStream, plus graphile-worker doing the same work on the same PostgreSQL as the baseline.
 * Throughput = publish everything as fast as possible while consuming; latency = publish-to-effect
 * at a fixed offered load of BENCH_RATE single-event transactions per second. Prints ONE JSON line.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Logger, makeWorkerUtils, run as runGraphile } from 'graphile-worker';
import pg from 'pg';
import { z } from 'zod';
import {
  EventCatalog,
  publish,
  publishMany,
  startEventBus,
  type EventBusOptions,
} from '../../src/events/index.ts';
import { migrate, openPglite, openPostgres, type Db } from '../../src/store/index.ts';

const N = Number(process.env.BENCH_EVENTS ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const LATENCY_N = Number(process.env.BENCH_LATENCY_EVENTS ?? 5_000);
// The latency load is offered this many times (after the throughput phase); the figures are the
// medians of the rounds, as the CPU is shared and one round can be hit by a neighbour's burst.
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 3);
// Between the 100,000-event burst and the latency rounds, run `VACUUM ANALYZE` on the bench database
// (Kontor's and graphile-worker's alike): the latency is a steady-state figure, and right after the
// burst the freshly created tables have no statistics and no hint bits yet — autovacuum catches up
// only after its naptime, in the middle of the rounds (measured: p99 40–85 ms without, 27–31 ms
// with; machine CPU per event 1.23–1.47 → 1.00–1.08 ms). BENCH_SETTLE=0 measures right after the burst.
const SETTLE = process.env.BENCH_SETTLE !== '0';
const PUBLISH_BATCH = Number(process.env.BENCH_PUBLISH_BATCH ?? 500);
// Publishing transactions in flight at once in the throughput phase (Kontor and graphile-worker alike).
const PUBLISHERS = Math.max(1, Number(process.env.BENCH_PUBLISHERS ?? 1));
const CONSUMER_BATCH = Number(process.env.BENCH_CONSUMER_BATCH ?? 50);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const CONFIGS = (process.env.BENCH_CONFIGS ?? 'embedded,postgres,nats,nats-batch,graphile')
  .split(',')
  .map((s) => s.trim());

const MAX_OUTSTANDING = 200;
// Kontor's default pool size (openPostgres). 40 connections measured far worse tails on 2 cores:
// publishing alone at 1,000/s, p99 44–193 ms against 10 ms with 10 (more backends than cores contend).
const POOL_SIZE = Number(process.env.BENCH_POOL ?? 10);
const TYPE = 'kontor.bench.item.created.v1';
const catalog = new EventCatalog().register({
  type: TYPE,
  version: 1,
  owner: 'bench',
  description: 'One item of the benchmark.',
  schema: z.object({ n: z.number().int() }),
});

const log = (msg: string) => process.stderr.write(`[bench:events] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures {
  eventsPerSec: number;
  /** Machine CPU per event in the throughput phase (see LatencyRound.machineCpuMsPerEvent). */
  machineCpuMsPerEvent: number | null;
  seconds: number;
  latency: {
    offeredPerSec: number;
    /** Medians over the rounds. */
    achievedPerSec: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    /** Median over the rounds (see LatencyRound). */
    machineCpuMsPerEvent: number | null;
    rounds: LatencyRound[];
    /** Where the time goes, p50/p99 per stage: publish call to commit, commit to handler start, handler start to settled. */
    stages?: Record<string, { p50Ms: number; p99Ms: number }>;
  };
}

interface LatencyRound {
  achievedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** 1-minute load average when the round ended. */
  load1: number;
  /**
   * CPU time the whole machine spent per event during the round (every process: Kontor, its
   * database, the broker), from /proc/stat; null where that is not readable. Steadier than the
   * latencies on a shared machine.
   */
  machineCpuMsPerEvent: number | null;
}

/** Machine CPU ms per event for `events` events since `from` (a {@link machineBusyMs} reading). */
function cpuPerEvent(from: number | null, events: number): number | null {
  const to = machineBusyMs();
  return from === null || to === null ? null : round((to - from) / events, 3);
}

/** CPU time the machine has spent busy so far, in ms (Linux /proc/stat), or null. */
function machineBusyMs(): number | null {
  if (!existsSync('/proc/stat')) return null;
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
  const busyTicks = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
  return busyTicks * 10; // USER_HZ = 100
}

function latencyRound(samples: number[], achieved: number, cpuMsPerEvent: number | null): LatencyRound {
  const s = [...samples].sort((a, b) => a - b);
  return {
    achievedPerSec: Math.round(achieved),
    p50Ms: round(percentile(s, 50)),
    p99Ms: round(percentile(s, 99)),
    maxMs: round(s.at(-1) ?? NaN),
    load1: round(loadavg()[0]!, 2),
    machineCpuMsPerEvent: cpuMsPerEvent,
  };
}

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** Offers the latency load LATENCY_RUNS times; `fire(id, n)` publishes one event and resolves on commit. */
async function latencyRounds(
  samples: number[],
  expectSettled: (count: number) => Promise<void>,
  fire: (id: string, n: number) => Promise<unknown>,
): Promise<Omit<Figures['latency'], 'stages'>> {
  const rounds: LatencyRound[] = [];
  for (let r = 0; r < LATENCY_RUNS; r++) {
    samples.length = 0;
    const settled = expectSettled(LATENCY_N);
    const busy0 = machineBusyMs();
    const achieved = await offerLoad(LATENCY_N, RATE, (i) => fire(`lat-${r}-${i}`, N + r * LATENCY_N + i));
    await settled;
    rounds.push(latencyRound(samples, achieved, cpuPerEvent(busy0, samples.length)));
    log(`  latency round ${r + 1}: ${JSON.stringify(rounds.at(-1))}`);
  }
  return {
    offeredPerSec: RATE,
    achievedPerSec: Math.round(median(rounds.map((x) => x.achievedPerSec))),
    p50Ms: median(rounds.map((x) => x.p50Ms)),
    p99Ms: median(rounds.map((x) => x.p99Ms)),
    maxMs: Math.max(...rounds.map((x) => x.maxMs)),
    machineCpuMsPerEvent: rounds.some((x) => x.machineCpuMsPerEvent === null)
      ? null
      : median(rounds.map((x) => x.machineCpuMsPerEvent!)),
    rounds,
  };
}

/** p50/p99 of one stage's samples. */
function stage(samples: number[]): { p50Ms: number; p99Ms: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50Ms: round(percentile(s, 50)), p99Ms: round(percentile(s, 99)) };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Creates a fresh PostgreSQL database; returns its URL and a dropper. */
async function createDatabase(tag: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kontor_bench_${tag}_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      try {
        // A pool that is still closing (graphile-worker's, after stop) would get a FATAL 57P01 from
        // a forced drop and crash the process as an unhandled pool error: wait for it first.
        for (let i = 0; i < 25; i++) {
          try {
            await a.query(`DROP DATABASE IF EXISTS ${name}`);
            return;
          } catch (e) {
            if ((e as { code?: string }).code !== '55006') throw e;
            await sleep(200);
          }
        }
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** Publishes N items in transactions of PUBLISH_BATCH, PUBLISHERS of them in flight at once. */
async function publishInBatches(
  publishBatch: (first: number, size: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const publisher = async () => {
    while (next < N) {
      const first = next;
      const size = Math.min(PUBLISH_BATCH, N - first);
      next += size;
      await publishBatch(first, size);
    }
  };
  await Promise.all(Array.from({ length: PUBLISHERS }, publisher));
}

/** Fires `count` publishes at `rate` per second without waiting for earlier ones (an open-loop load). */
async function offerLoad(
  count: number,
  rate: number,
  fire: (i: number) => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  const inFlight: Promise<unknown>[] = [];
  let outstanding = 0;
  let i = 0;
  while (i < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    // More than MAX_OUTSTANDING unfinished publishes means the system cannot keep up: stop
    // queueing (the achieved rate shows it) instead of exhausting the connection pool.
    while (i < due && outstanding < MAX_OUTSTANDING) {
      outstanding++;
      inFlight.push(fire(i++).finally(() => outstanding--));
    }
    await sleep(1);
  }
  await Promise.all(inFlight);
  return count / ((performance.now() - started) / 1000);
}

/**
 * `event`: the handler does one INSERT per event (as graphile-worker's task does). `batch`: one
 * multi-row INSERT per consumer transaction (handleBatch) — still one row written per event.
 */
type HandlerKind = 'event' | 'batch';

async function benchKontor(db: Db, bus: EventBusOptions, handler: HandlerKind = 'event'): Promise<Figures> {
  await db.exec('CREATE TABLE bench_effects (event_id text NOT NULL, n integer NOT NULL)');
  const started = new Map<string, number>();
  const committed = new Map<string, number>();
  const handled = new Map<string, number>();
  const latencies: number[] = [];
  const stages = { commit: [] as number[], deliver: [] as number[], handle: [] as number[] };
  let settled = 0;
  let target = N;
  let reached: () => void = () => undefined;
  const eventBus = await startEventBus(db, { ...bus, pollIntervalMs: 5_000 });
  await eventBus.startConsumer({
    name: 'bench',
    types: [TYPE],
    batchSize: CONSUMER_BATCH,
    concurrency: CONCURRENCY,
    maxInFlight: 4_096,
    ...(handler === 'event'
      ? {
          handle: async (e, { tx }) => {
            if (started.has(e.id)) handled.set(e.id, performance.now());
            await tx.query('INSERT INTO bench_effects (event_id, n) VALUES ($1, $2)', [
              e.id,
              (e.data as { n: number }).n,
            ]);
          },
        }
      : {
          handleBatch: async (events, { tx }) => {
            const now = performance.now();
            for (const e of events) if (started.has(e.id)) handled.set(e.id, now);
            await tx.query(
              'INSERT INTO bench_effects (event_id, n) SELECT * FROM unnest($1::text[], $2::int[])',
              [events.map((e) => e.id), events.map((e) => (e.data as { n: number }).n)],
            );
          },
        }),
    onSettled: (e) => {
      const t = started.get(e.id);
      if (t !== undefined) {
        const now = performance.now();
        latencies.push(now - t);
        const c = committed.get(e.id);
        const h = handled.get(e.id);
        if (c !== undefined && h !== undefined) {
          stages.commit.push(c - t);
          stages.deliver.push(h - c);
          stages.handle.push(now - h);
        }
      }
      if (++settled === target) reached();
    },
  });
  let seconds = NaN;
  let busy0: number | null = null;
  let busy: number | null = null;
  let latency: Omit<Figures['latency'], 'stages'> | undefined;
  try {
    // Throughput: publish everything in batches while the consumer works.
    const done = new Promise<void>((r) => (reached = r));
    const t0 = performance.now();
    busy0 = machineBusyMs();
    await publishInBatches((i, size) =>
      db.transaction((tx) =>
        publishMany(
          tx,
          Array.from({ length: size }, (_, j) => ({ type: TYPE, data: { n: i + j } })),
          { catalog },
        ),
      ),
    );
    const publishedAt = performance.now();
    await done;
    seconds = (performance.now() - t0) / 1000;
    busy = cpuPerEvent(busy0, N);
    log(
      `  throughput: ${N} events in ${round(seconds, 2)} s (publish ${round((publishedAt - t0) / 1000, 2)} s)`,
    );
    if (SETTLE) await db.exec('VACUUM ANALYZE');
    // Latency: single-event transactions at the offered rate.
    latency = await latencyRounds(
      latencies,
      (count) => {
        target = settled + count;
        return new Promise<void>((r) => (reached = r));
      },
      (id, n) => {
        started.set(id, performance.now());
        return db
          .transaction((tx) => publish(tx, { type: TYPE, id, data: { n } }, { catalog }))
          .then(() => committed.set(id, performance.now()));
      },
    );
  } finally {
    await eventBus.close();
  }
  const effects = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM bench_effects');
  const expected = N + LATENCY_RUNS * LATENCY_N;
  if (Number(effects.rows[0]!.n) !== expected)
    throw new Error(`expected ${expected} effects, found ${effects.rows[0]!.n}`);
  return {
    eventsPerSec: Math.round(N / seconds),
    machineCpuMsPerEvent: busy,
    seconds: round(seconds, 2),
    latency: {
      ...latency,
      // Pooled over every round.
      stages: {
        publishToCommit: stage(stages.commit),
        commitToHandler: stage(stages.deliver),
        handlerToSettled: stage(stages.handle),
      },
    },
  };
}

async function benchGraphile(url: string): Promise<Figures> {
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query('CREATE TABLE bench_effects (event_id text NOT NULL, n integer NOT NULL)');
  await setup.end();
  const started = new Map<string, number>();
  const latencies: number[] = [];
  let settled = 0;
  let target = N;
  let reached: () => void = () => undefined;
  const runner = await runGraphile({
    connectionString: url,
    concurrency: CONCURRENCY,
    maxPoolSize: CONCURRENCY + 2,
    noHandleSignals: true,
    pollInterval: 2_000,
    logger: new Logger(() => () => undefined),
    taskList: {
      bench: async (payload, helpers) => {
        const p = payload as { id: string; n: number };
        await helpers.withPgClient((c) =>
          c.query('INSERT INTO bench_effects (event_id, n) VALUES ($1, $2)', [p.id, p.n]),
        );
      },
    },
  });
  runner.events.on('job:success', ({ job }) => {
    const p = job.payload as { id: string };
    const t = started.get(p.id);
    if (t !== undefined) latencies.push(performance.now() - t);
    if (++settled === target) reached();
  });
  const utils = await makeWorkerUtils({ connectionString: url, logger: new Logger(() => () => undefined) });
  const done = new Promise<void>((r) => (reached = r));
  const t0 = performance.now();
  const busy0 = machineBusyMs();
  await publishInBatches((i, size) =>
    utils.addJobs(
      Array.from({ length: size }, (_, j) => ({
        identifier: 'bench',
        payload: { id: `t-${i + j}`, n: i + j },
      })),
    ),
  );
  await done;
  const seconds = (performance.now() - t0) / 1000;
  const busy = cpuPerEvent(busy0, N);
  log(`  throughput: ${N} jobs in ${round(seconds, 2)} s`);
  if (SETTLE) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('VACUUM ANALYZE');
    await c.end();
  }
  const latency = await latencyRounds(
    latencies,
    (count) => {
      target = settled + count;
      return new Promise<void>((r) => (reached = r));
    },
    (id, n) => {
      started.set(id, performance.now());
      return utils.addJob('bench', { id, n });
    },
  );
  await utils.release();
  await runner.stop();
  return {
    eventsPerSec: Math.round(N / seconds),
    machineCpuMsPerEvent: busy,
    seconds: round(seconds, 2),
    latency,
  };
}

async function withPostgres<T>(tag: string, fn: (db: Db, url: string) => Promise<T>): Promise<T> {
  const created = await createDatabase(tag);
  const db = await openPostgres({ url: created.url, max: POOL_SIZE });
  try {
    await migrate(db);
    return await fn(db, created.url);
  } finally {
    await db.close();
    await created.drop();
  }
}

const results: Record<string, Figures> = {};
if (CONFIGS.includes('embedded')) {
  log('(a) embedded PGlite, in-process bus');
  const dir = mkdtempSync(join(tmpdir(), 'kontor-bench-'));
  const db = await openPglite({ dataDir: dir });
  try {
    await migrate(db);
    results.embeddedPglite = await benchKontor(db, {});
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (CONFIGS.includes('postgres')) {
  log('(b) PostgreSQL, in-process bus');
  results.postgresInProcess = await withPostgres('inproc', (db) => benchKontor(db, {}));
}
async function benchNats(tag: string, handler: HandlerKind): Promise<Figures> {
  const stream = `KONTOR_BENCH_${tag.toUpperCase()}_${process.pid}`;
  try {
    return await withPostgres(tag, (db) =>
      benchKontor(
        db,
        {
          url: NATS_URL,
          nats: { stream, subjectPrefix: `kontor_bench_${tag}_${process.pid}`, ackWaitMs: 30_000 },
        },
        handler,
      ),
    );
  } finally {
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
}
if (CONFIGS.includes('nats')) {
  log('(c) PostgreSQL, NATS JetStream (one INSERT per event)');
  results.postgresNats = await benchNats('nats', 'event');
}
if (CONFIGS.includes('nats-batch')) {
  log('(d) PostgreSQL, NATS JetStream, batch handler (one multi-row INSERT per consumer transaction)');
  results.postgresNatsBatchHandler = await benchNats('natsbatch', 'batch');
}
if (CONFIGS.includes('graphile')) {
  log('baseline: graphile-worker on PostgreSQL');
  const created = await createDatabase('graphile');
  try {
    results.graphileWorker = await benchGraphile(created.url);
  } finally {
    await created.drop();
  }
}

const g = results.graphileWorker?.eventsPerSec;
const ratio = (x: Figures | undefined) => (x && g ? round(x.eventsPerSec / g, 2) : null);
console.log(
  JSON.stringify({
    bench: 'events',
    events: N,
    latencyEvents: LATENCY_N,
    latencyRuns: LATENCY_RUNS,
    offeredPerSec: RATE,
    publishBatch: PUBLISH_BATCH,
    publishers: PUBLISHERS,
    settledBeforeLatency: SETTLE,
    consumerBatch: CONSUMER_BATCH,
    concurrency: CONCURRENCY,
    results,
    ratioVsGraphile: {
      postgresInProcess: ratio(results.postgresInProcess),
      postgresNats: ratio(results.postgresNats),
      postgresNatsBatchHandler: ratio(results.postgresNatsBatchHandler),
      embeddedPglite: ratio(results.embeddedPglite),
    },
    bars: {
      postgresAtLeast3xGraphile:
        ratio(results.postgresInProcess) === null ? null : ratio(results.postgresInProcess)! >= 3,
      postgresP99Under50ms: results.postgresInProcess ? results.postgresInProcess.latency.p99Ms < 50 : null,
      natsAtLeast10kPerSec: results.postgresNats ? results.postgresNats.eventsPerSec >= 10_000 : null,
      natsBatchHandlerAtLeast10kPerSec: results.postgresNatsBatchHandler
        ? results.postgresNatsBatchHandler.eventsPerSec >= 10_000
        : null,
    },
    machine: { cpus: cpus().length, loadavg: loadavg().map((x) => round(x, 2)) },
  }),
);
process.exit(0);

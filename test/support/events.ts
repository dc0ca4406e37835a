/** Helpers for the event-backbone tests: both buses, a test catalog, polling for a condition. */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import { EventCatalog, startEventBus, type EventBus, type EventBusOptions } from '../../src/events/index.ts';
import { getMetricsRegistry } from '../../src/observability/index.ts';
import type { Db } from '../../src/store/index.ts';

export type BusKind = 'embedded' | 'nats';

/** Both buses, unless KONTOR_TEST_BUSES narrows them (e.g. "embedded"). */
export const buses: BusKind[] = (process.env.KONTOR_TEST_BUSES ?? 'embedded,nats')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is BusKind => s === 'embedded' || s === 'nats');

export const natsUrl = process.env.KONTOR_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** The event type the tests publish; registered in a test catalog only. */
export const TEST_TYPE = 'kontor.test.thing.happened.v1';

/** A catalog with the built-in types plus the test type. */
export function createTestCatalog(): EventCatalog {
  return new EventCatalog().register({
    type: TEST_TYPE,
    version: 1,
    owner: 'tests',
    description: 'Something happened in a test.',
    schema: z.object({ n: z.number().int(), note: z.string().optional() }),
  });
}

/** Bus options isolated per call: a JetStream stream and subject prefix of their own. */
export function createTestBusOptions(
  kind: BusKind,
  overrides: EventBusOptions = {},
): EventBusOptions & { streamName: string } {
  const tag = randomBytes(4).toString('hex');
  const streamName = `KONTOR_T_${process.pid}_${tag}`;
  return {
    url: kind === 'nats' ? natsUrl : undefined,
    pollIntervalMs: 1_000,
    ...overrides,
    nats: { stream: streamName, subjectPrefix: `kt_${tag}`, ackWaitMs: 2_000, ...overrides.nats },
    streamName,
  };
}

/** Deletes a test stream (ignores one that does not exist). */
export async function deleteTestStream(streamName: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(streamName).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/** Starts a bus of `kind` on `db`; `dispose` closes it and deletes its stream. */
export async function startTestBus(
  db: Db,
  kind: BusKind,
  overrides: EventBusOptions = {},
): Promise<{ bus: EventBus; options: EventBusOptions; dispose(): Promise<void> }> {
  const options = createTestBusOptions(kind, overrides);
  const bus = await startEventBus(db, options);
  return {
    bus,
    options,
    async dispose() {
      await bus.close();
      if (kind === 'nats') await deleteTestStream(options.streamName);
    },
  };
}

/** Polls `check` until it returns true, or throws after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Counts rows of a table (the tests' effects tables). */
export async function countRows(db: Db, table: string, where = 'true'): Promise<number> {
  const r = await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`);
  return Number(r.rows[0]!.n);
}

/** The value of one series of a metric in this process's registry (0 when absent). */
export async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = getMetricsRegistry().getSingleMetric(name);
  if (m === undefined) return 0;
  const { values } = await m.get();
  const series = values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return series?.value ?? 0;
}

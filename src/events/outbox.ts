/**
 * The transactional outbox, which is also the event log: `publish` writes the event in the
 * caller's transaction, so it exists exactly when the business write it describes committed.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, IdGenerator } from '../domain/index.ts';
import { eventsPublishedTotal } from '../observability/index.ts';
import { prepared, type Queryable, type Tx } from '../store/index.ts';
import { defaultCatalog, type EventCatalog } from './catalog.ts';
import type { CloudEvent, StoredEvent } from './envelope.ts';

/** NOTIFY channel the bus listens on (new events, control requests). */
export const EVENTS_CHANNEL = 'kontor_events';

/**
 * The NATS relay's row in kontor_consumers: its position is the last (txid, seq) relayed to
 * JetStream. Every event at or before it is relayed (the relay moves rows in log order below the
 * log horizon, like a consumer's cursor), so one row update per batch replaces a per-event mark.
 * `relayed_at` is only set on events relayed by earlier versions. Consumer names cannot start with `$`.
 */
export const RELAY_POSITION_NAME = '$relay';

/** `$…` rows of kontor_consumers belong to the bus itself (the NATS relay's position), not to a consumer. */
export const isReservedConsumerName = (name: string): boolean => name.startsWith('$');

/** SQL: true when the kontor_events row aliased `e` has been relayed to NATS. */
export const RELAYED_SQL = (e: string) =>
  `(${e}.relayed_at IS NOT NULL OR coalesce((${e}.txid::text::bigint, ${e}.seq) <= (SELECT r.position_txid, r.position FROM kontor_consumers r WHERE r.name = '${RELAY_POSITION_NAME}'), false))`;

// Buses running in this process. A NOTIFY inside a publishing transaction takes PostgreSQL's
// cluster-wide notify lock until after the commit's WAL flush, so every publishing commit would
// queue behind the previous one (measured: 1,000 single-event tx/s reach ~600/s with p50 > 300 ms
// under load, against p50 ≈ 2 ms without it). So when a bus runs here, a publishing transaction
// hints it directly once it has committed, and the bus forwards one NOTIFY, outside any
// transaction, once the events are readable. A process without a bus (the CLI) still notifies in
// the transaction: it publishes little.
const localBuses = new Set<() => void>();
// Transactions that will hint the local buses when they commit (one hint per transaction).
const hinting = new WeakSet<Tx>();

/** Registers a bus of this process to be hinted after every publishing commit; returns the unregister function. */
export function onLocalPublish(hint: () => void): () => void {
  localBuses.add(hint);
  return () => localBuses.delete(hint);
}

function hintLocalBuses(): void {
  for (const hint of localBuses) hint();
}

/** What a publisher supplies; the rest of the envelope is filled in. */
export interface PublishInput<D = unknown> {
  type: string;
  data: D;
  /** What the event is about, e.g. a bank account id; also the ordering key of ordered consumers. */
  subject?: string;
  /** Defaults to `/kontor/<owner flow>`. */
  source?: string;
  /** Defaults to a new UUID; pass a deterministic id to make a retried publish idempotent. */
  id?: string;
  correlationId?: string;
  traceparent?: string;
}

export interface PublishOptions {
  catalog?: EventCatalog;
  clock?: Clock;
  ids?: IdGenerator;
}

const systemClock: Clock = { now: () => new Date() };
const uuids: IdGenerator = { next: () => randomUUID() };

/** Validates and builds the envelope of one event without writing it. */
export function buildEvent(input: PublishInput, options: PublishOptions = {}): CloudEvent {
  const catalog = options.catalog ?? defaultCatalog;
  const data = catalog.validate(input.type, input.data);
  const definition = catalog.find(input.type)!;
  const id = input.id ?? (options.ids ?? uuids).next();
  const event: CloudEvent = {
    specversion: '1.0',
    id,
    source: input.source ?? `/kontor/${definition.owner}`,
    type: input.type,
    time: (options.clock ?? systemClock).now().toISOString(),
    datacontenttype: 'application/json',
    data,
    // A new business transaction starts with its first event: it correlates by its own id.
    correlationid: input.correlationId ?? id,
  };
  if (input.subject !== undefined) event.subject = input.subject;
  if (input.traceparent !== undefined) event.traceparent = input.traceparent;
  return event;
}

/** Writes one event into the outbox inside `tx`; throws (writing nothing) when its data breaks the schema. */
export async function publish(
  tx: Tx,
  input: PublishInput,
  options: PublishOptions = {},
): Promise<CloudEvent> {
  const [event] = await publishMany(tx, [input], options);
  return event!;
}

const PUBLISH_SQL = prepared(
  `INSERT INTO kontor_events (id, type, source, subject, time, correlation_id, traceparent, data, datacontenttype)
   SELECT v.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::jsonb[], $9::text[])
     AS v(id, type, source, subject, time, correlation_id, traceparent, data, datacontenttype)`,
);
const PUBLISH_NOTIFY_SQL = prepared(
  `${PUBLISH_SQL} CROSS JOIN (SELECT pg_notify('${EVENTS_CHANNEL}', '')) AS notified`,
);

/** Writes several events in one statement inside `tx`; all are validated before anything is written. */
export async function publishMany(
  tx: Tx,
  inputs: readonly PublishInput[],
  options: PublishOptions = {},
): Promise<CloudEvent[]> {
  const events = inputs.map((i) => buildEvent(i, options));
  if (events.length === 0) return events;
  // One array per column (unnest) rather than a VALUES list of 9 parameters per event: the
  // statement text and its plan stay the same for any batch size, and the driver sends 9 values.
  const col = <T>(f: (e: CloudEvent) => T) => events.map(f);
  // Without a local bus the NOTIFY rides in the same statement (one round trip less); PostgreSQL
  // delivers it only on commit and collapses repeats within a transaction.
  const hinted = localBuses.size > 0;
  await tx.query(hinted ? PUBLISH_SQL : PUBLISH_NOTIFY_SQL, [
    col((e) => e.id),
    col((e) => e.type),
    col((e) => e.source),
    col((e) => e.subject ?? null),
    col((e) => e.time),
    col((e) => e.correlationid ?? null),
    col((e) => e.traceparent ?? null),
    col((e) => JSON.stringify(e.data)),
    col((e) => e.datacontenttype),
  ]);
  if (hinted && !hinting.has(tx)) {
    hinting.add(tx);
    tx.afterCommit(hintLocalBuses);
  }
  countOnCommit(tx, events);
  return events;
}

/** Counts `events` in kontor_events_published_total once `tx` commits (a rolled-back publish is none). */
function countOnCommit(tx: Tx, events: readonly CloudEvent[]): void {
  const published = eventsPublishedTotal();
  const byType = new Map<string, number>();
  for (const e of events) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
  tx.afterCommit(() => {
    for (const [type, n] of byType) published.inc({ type }, n);
  });
}

/**
 * A SQL expression for the log horizon: the oldest transaction of THIS database still running (or
 * the next xid when none is). Every row with txid below it is final, so a cursor in (txid, seq)
 * order over those rows never skips a late commit. Transactions of other databases on the same
 * server (an Odoo next door) are left out, so they cannot stall delivery; a running xid whose
 * database cannot be seen (no pg_read_all_stats) is counted, which is safe, only slower.
 */
export const LOG_HORIZON_SQL = `(SELECT coalesce(
    (SELECT min(x) FROM pg_snapshot_xip(s.snap) AS x
      WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
        WHERE a.backend_xid::text::bigint = x::text::bigint % 4294967296 AND a.datname IS DISTINCT FROM current_database())),
    pg_snapshot_xmax(s.snap))
  FROM (SELECT pg_current_snapshot() AS snap) s)`;

/** A row of kontor_events as the queries select it. */
export interface EventRow {
  seq: bigint;
  /** The publishing transaction's id: log order is (txid, seq). */
  txid: bigint;
  id: string;
  type: string;
  source: string;
  subject: string | null;
  time: Date | string;
  datacontenttype: string;
  correlation_id: string | null;
  traceparent: string | null;
  data: unknown;
  relayed_at: Date | null;
  /** Relayed to NATS (only selected by listEvents/getEvent). */
  relayed?: boolean;
}

/**
 * The columns every event query selects, in EventRow's shape. `txid` is output as bigint under the
 * same name: an `ORDER BY txid` would sort by that expression (all matching rows, then a sort),
 * so log-order queries write `ORDER BY kontor_events.txid, kontor_events.seq` to walk the index.
 */
export const EVENT_COLUMNS =
  'seq, txid::text::bigint AS txid, id, type, source, subject, time, datacontenttype, correlation_id, traceparent, data, relayed_at';

/** Turns a kontor_events row into a stored event. */
export function toStoredEvent(row: EventRow): StoredEvent {
  const event: CloudEvent = {
    specversion: '1.0',
    id: row.id,
    source: row.source,
    type: row.type,
    time: new Date(row.time).toISOString(),
    datacontenttype: 'application/json',
    data: row.data,
  };
  if (row.subject !== null) event.subject = row.subject;
  if (row.traceparent !== null) event.traceparent = row.traceparent;
  if (row.correlation_id !== null) event.correlationid = row.correlation_id;
  return {
    sequence: BigInt(row.seq),
    event,
    relayed: row.relayed ?? row.relayed_at !== null,
    relayedAt: row.relayed_at,
  };
}

export interface ListEventsInput {
  type?: string;
  correlationId?: string;
  /** Only events after this sequence (exclusive): the cursor of the previous page. */
  after?: bigint | number | string;
  /** At most this many (default 100, at most 1000). */
  limit?: number;
}

export interface ListEventsResult {
  events: StoredEvent[];
  /** Pass as `after` for the next page; null when this page is the last. */
  nextAfter: bigint | null;
}

/** Lists stored events in sequence order, e.g. everything that happened in one business transaction. */
export async function listEvents(db: Queryable, input: ListEventsInput = {}): Promise<ListEventsResult> {
  const limit = Math.min(Math.max(input.limit ?? 100, 1), 1000);
  const where: string[] = [];
  const params: unknown[] = [];
  if (input.type !== undefined) where.push(`type = $${params.push(input.type)}`);
  if (input.correlationId !== undefined) where.push(`correlation_id = $${params.push(input.correlationId)}`);
  if (input.after !== undefined) where.push(`seq > $${params.push(String(input.after))}`);
  const r = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS}, ${RELAYED_SQL('kontor_events')} AS relayed FROM kontor_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ${limit + 1}`,
    params,
  );
  const rows = r.rows.slice(0, limit);
  return {
    events: rows.map(toStoredEvent),
    nextAfter: r.rows.length > limit ? BigInt(rows.at(-1)!.seq) : null,
  };
}

/** Reads one stored event by its id. */
export async function getEvent(db: Queryable, id: string): Promise<StoredEvent | undefined> {
  const r = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS}, ${RELAYED_SQL('kontor_events')} AS relayed FROM kontor_events WHERE id = $1`,
    [id],
  );
  return r.rows[0] === undefined ? undefined : toStoredEvent(r.rows[0]);
}

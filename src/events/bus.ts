/**
 * The buses that carry committed events from the outbox to consumers: the embedded one reads the
 * outbox table itself, woken by NOTIFY on commit; the NATS one relays the outbox to a JetStream
 * stream and consumes through durable pull consumers. Both feed the same ConsumerProcessor.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  connect,
  createInbox,
  headers,
  nanos,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { AppError, ErrorCodes } from '../domain/index.ts';
import { prepared, type Db, type Tx } from '../store/index.ts';
import { ConsumerProcessor, type ConsumerDefinition, type ConsumerLag, type Delivery } from './consumer.ts';
import { CONTROL_PAYLOAD } from './dead-letters.ts';
import { decodeCloudEvent, encodeCloudEvent } from './envelope.ts';
import {
  checkRetention,
  pruneEventLog,
  pruneIdempotencyRecords,
  type RetentionOptions,
} from './retention.ts';
import {
  EVENT_COLUMNS,
  EVENTS_CHANNEL,
  LOG_HORIZON_SQL,
  onLocalPublish,
  RELAY_POSITION_NAME,
  toStoredEvent,
  type EventRow,
} from './outbox.ts';

// Only one relay at a time moves rows to JetStream, so the stream keeps the outbox order.
const RELAY_LOCK_KEY = 7_204_013;
// How soon to look again when committed events wait behind a transaction still running.
const HELD_BACK_RETRY_MS = 5;
// After a publishing commit in this process (hinted once committed; it sends no NOTIFY), read at
// once; if its events are still held back by an older transaction of the database, look again
// after 1, 2, 4… ms, up to 50 ms apart, for 2 s after the last hint; then back to the slow poll.
const HINT_WINDOW_MS = 2_000;
const HINT_FIRST_MS = 1;
const HINT_MAX_MS = 50;
// While local commits keep coming, a consumer reads the log at most this often (it reads what
// committed meanwhile in one query, and runs it in one transaction per lane batch).
const MIN_FETCH_GAP_MS = 5;
// Local publishes are announced to other processes by at most one NOTIFY this often.
const FORWARD_INTERVAL_MS = 10;

export interface NatsBusOptions {
  /** JetStream stream name (default KONTOR_EVENTS). */
  stream?: string;
  /** Subject prefix; an event is published on `<prefix>.<type>` (default kontor.events). */
  subjectPrefix?: string;
  /** Unacknowledged deliveries are redelivered after this long (default 30 s). */
  ackWaitMs?: number;
  /** Outbox rows relayed per round trip (default 1000). */
  relayBatch?: number;
  /** A relayed batch not acknowledged by the stream within this long is published again (default 10 s). */
  publishTimeoutMs?: number;
}

export interface EventBusOptions {
  /** `nats://host:4222` for NATS JetStream; empty, undefined or `embedded` for the in-process bus. */
  url?: string | undefined;
  /** Fallback poll when no NOTIFY arrives, e.g. after a lost connection (default 5 s). Not a busy poll. */
  pollIntervalMs?: number;
  nats?: NatsBusOptions;
  /**
   * Deletes old events from the log periodically once every consumer has passed them and no dead
   * letter refers to them (default: older than 30 days, checked every hour); false keeps them all.
   */
  retention?: (RetentionOptions & { intervalMs?: number }) | false;
  /** Errors of background loops (they keep running); default prints to stderr. */
  onError?: (error: unknown, where: string) => void;
}

/** A running consumer. */
export interface ConsumerHandle {
  readonly name: string;
  /** Deliveries accepted and not yet settled, right now. */
  readonly inFlight: number;
  /** Events of its types not yet settled by it. */
  readLag(): Promise<ConsumerLag>;
  stop(): Promise<void>;
}

/** A started bus. */
export interface EventBus {
  readonly kind: 'embedded' | 'nats';
  /** Starts a named durable consumer; it resumes from its stored position. */
  startConsumer(definition: ConsumerDefinition): Promise<ConsumerHandle>;
  /** Stops every consumer (and the relay) and releases connections; the database stays open. */
  close(): Promise<void>;
}

// The statements of the delivery loops, prepared once per connection on PostgreSQL. A consumer
// reads rows of its types after its cursor, below the log horizon, in log order.
const fetchSql = (range: string) =>
  `SELECT ${EVENT_COLUMNS} FROM kontor_events
   WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND txid < ${LOG_HORIZON_SQL} AND type = ANY($3::text[]) ${range}
   ORDER BY kontor_events.txid, kontor_events.seq LIMIT $4`;
const FETCH_SQL = prepared(fetchSql(''));
// The same within a range of sequence numbers (a replay).
const FETCH_RANGE_SQL = fetchSql('AND seq >= $5 AND seq <= $6');
// The relay reads every type.
const RELAY_FETCH_SQL = prepared(
  `SELECT ${EVENT_COLUMNS} FROM kontor_events
   WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND txid < ${LOG_HORIZON_SQL}
   ORDER BY kontor_events.txid, kontor_events.seq LIMIT $3`,
);
const HELD_BACK_SQL = prepared(
  'SELECT EXISTS (SELECT 1 FROM kontor_events WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND type = ANY($3::text[])) AS more',
);
const UPDATE_POSITION_SQL = prepared(
  'UPDATE kontor_consumers SET position_txid = $2, position = $3, updated_at = now() WHERE name = $1',
);
const NOTIFY_SQL = prepared('SELECT pg_notify($1, $2)');
const READ_POSITION_SQL = prepared('SELECT position_txid, position FROM kontor_consumers WHERE name = $1');

/** A latch: `wait` returns at the next `wake` or after a timeout; a wake before the wait is not lost. */
class Waker {
  #pending = false;
  #resolve: (() => void) | undefined;

  wake(): void {
    this.#pending = true;
    const r = this.#resolve;
    this.#resolve = undefined;
    r?.();
  }

  async wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#resolve = undefined;
        resolve();
      }, ms);
      this.#resolve = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#pending = false;
  }
}

/** Short, growing waits while a local commit is fresh: the transactions holding its events back end soon, unannounced. */
class HintedWait {
  #last = -Infinity;
  #delay = HINT_FIRST_MS;

  hinted(): void {
    this.#last = performance.now();
    this.#delay = HINT_FIRST_MS;
  }

  /** The next wait while a hint is fresh (1, 2, 4… ms), else undefined. */
  next(): number | undefined {
    if (performance.now() - this.#last > HINT_WINDOW_MS) return undefined;
    const d = this.#delay;
    this.#delay = Math.min(HINT_MAX_MS, d * 2);
    return d;
  }
}

/** A loop of the bus that reads the outbox: woken by NOTIFY, and hinted by local publishes. */
interface OutboxLoop {
  readonly waker: Waker;
  readonly hints: HintedWait;
}

/**
 * Fan-out of the one LISTEN connection and of local publish hints to every loop of the bus. Once
 * a loop has read rows after a local hint, one NOTIFY (outside any transaction, so it takes the
 * notify lock only for an instant) tells other processes; its own echo is ignored.
 */
class Wakeups {
  readonly events = new Set<OutboxLoop>();
  readonly control = new Set<{ controlPending: boolean; waker: Waker }>();
  readonly #self = `events:${randomUUID()}`;
  readonly #db: Db;
  readonly #onError: (error: unknown, where: string) => void;
  #hintedSinceForward = false;
  #forwarding = false;
  #lastForward = -Infinity;
  #stopped = false;

  constructor(db: Db, onError: (error: unknown, where: string) => void) {
    this.#db = db;
    this.#onError = onError;
  }

  dispatch(payload: string): void {
    if (payload === CONTROL_PAYLOAD) {
      for (const c of this.control) {
        c.controlPending = true;
        c.waker.wake();
      }
    } else if (payload !== this.#self) for (const l of this.events) l.waker.wake();
  }

  /** A publishing transaction of this process committed. */
  hint(): void {
    this.#hintedSinceForward = true;
    for (const l of this.events) {
      l.hints.hinted();
      l.waker.wake();
    }
  }

  /**
   * A loop read committed rows: forward a NOTIFY for other processes if local publishes happened,
   * at most one per FORWARD_INTERVAL_MS (a NOTIFY is a transaction of its own, with a commit).
   */
  readRows(): void {
    if (!this.#hintedSinceForward || this.#forwarding) return;
    this.#forwarding = true;
    const wait = this.#lastForward + FORWARD_INTERVAL_MS - performance.now();
    const send = () => {
      if (this.#stopped) return;
      this.#hintedSinceForward = false;
      this.#lastForward = performance.now();
      this.#db
        .query(NOTIFY_SQL, [EVENTS_CHANNEL, this.#self])
        .catch((e: unknown) => this.#onError(e, 'events notify'))
        .finally(() => (this.#forwarding = false));
    };
    if (wait <= 0) send();
    else setTimeout(send, wait).unref();
  }

  /** Starts listening and receiving hints; resolves to the function that stops both. */
  async start(): Promise<() => Promise<void>> {
    const unlisten = await this.#db.listen(EVENTS_CHANNEL, (payload) => this.dispatch(payload));
    const unhint = onLocalPublish(() => this.hint());
    return async () => {
      this.#stopped = true;
      unhint();
      await unlisten();
    };
  }
}

const defaultOnError = (error: unknown, where: string) => {
  console.error(`[kontor events] ${where}:`, error);
};

/** Starts the bus named by `options.url`: NATS JetStream for `nats://…`, else the embedded bus. */
export async function startEventBus(db: Db, options: EventBusOptions = {}): Promise<EventBus> {
  const url = options.url ?? '';
  const embedded = url === '' || url === 'embedded';
  if (!embedded && !/^nats(\+tls)?:\/\//.test(url) && !url.startsWith('tls://')) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `KONTOR_BUS must be a nats:// URL or empty for the embedded bus (got "${url}")`,
    );
  }
  const retention =
    options.retention === false ? undefined : startRetention(db, embedded ? 'embedded' : 'nats', options);
  try {
    const bus = embedded ? await startEmbeddedBus(db, options) : await startNatsBus(db, url, options);
    if (retention === undefined) return bus;
    const close = bus.close.bind(bus);
    return Object.assign(bus, {
      async close() {
        await retention.stop();
        await close();
      },
    });
  } catch (e) {
    await retention?.stop();
    throw e;
  }
}

/** Runs {@link pruneEventLog} every `intervalMs` (default 1 h), the first time soon after start. */
function startRetention(
  db: Db,
  bus: 'embedded' | 'nats',
  options: EventBusOptions,
): { stop(): Promise<void> } {
  const settings = options.retention === false ? {} : (options.retention ?? {});
  const { maxAgeMs, batchSize } = checkRetention(settings);
  const intervalMs = settings.intervalMs ?? 60 * 60 * 1000;
  const onError = options.onError ?? defaultOnError;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const schedule = (ms: number) => {
    timer = setTimeout(() => {
      running = pruneEventLog(db, { bus, maxAgeMs, batchSize })
        .then(async () => {
          if (bus === 'embedded') await pruneIdempotencyRecords(db, { maxAgeMs, batchSize });
        })
        .then(
          () => undefined,
          (e: unknown) => onError(e, 'event log retention'),
        )
        .finally(() => {
          if (!stopped) schedule(intervalMs);
        });
    }, ms);
    timer.unref();
  };
  schedule(Math.min(intervalMs, 10_000));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** A place in log order: every event with (txid, seq) up to here. */
interface LogPosition {
  txid: bigint;
  seq: bigint;
}

const isAfter = (a: LogPosition, b: LogPosition) => a.txid > b.txid || (a.txid === b.txid && a.seq > b.seq);

async function ensureConsumerRow(db: Db, name: string): Promise<LogPosition> {
  await db.query('INSERT INTO kontor_consumers (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
  const r = await db.query<{ position_txid: bigint; position: bigint }>(READ_POSITION_SQL, [name]);
  return { txid: BigInt(r.rows[0]!.position_txid), seq: BigInt(r.rows[0]!.position) };
}

/** Where a replay from `fromSeq` starts in log order; undefined when no event has that sequence or a later one. */
async function findReplayStart(db: Db, fromSeq: bigint): Promise<LogPosition | undefined> {
  const r = await db.query<{ txid: bigint | null }>(
    'SELECT min(txid)::text::bigint AS txid FROM kontor_events WHERE seq >= $1',
    [String(fromSeq)],
  );
  const txid = r.rows[0]?.txid;
  return txid === null || txid === undefined ? undefined : { txid: BigInt(txid), seq: 0n };
}

async function loadEvents(db: Db, seqs: bigint[]): Promise<EventRow[]> {
  if (seqs.length === 0) return [];
  const r = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM kontor_events WHERE seq = ANY($1::bigint[]) ORDER BY seq`,
    [seqs.map(String)],
  );
  return r.rows;
}

/** What both kinds of runner share: the processor, the wake-ups and dead-letter replays. */
abstract class ConsumerRunner implements ConsumerHandle, OutboxLoop {
  readonly name: string;
  readonly processor: ConsumerProcessor;
  readonly waker = new Waker();
  readonly hints = new HintedWait();
  /** Told when a fetch returned rows (the bus forwards a NOTIFY after local publishes). */
  onRows: () => void = () => undefined;
  controlPending = true;
  protected readonly db: Db;
  protected readonly pollMs: number;
  protected readonly onError: (error: unknown, where: string) => void;
  protected stopped = false;
  readonly #replayingDeadLetters = new Set<string>();

  constructor(db: Db, definition: ConsumerDefinition, options: EventBusOptions) {
    this.db = db;
    this.name = definition.name;
    this.pollMs = options.pollIntervalMs ?? 5_000;
    this.onError = options.onError ?? defaultOnError;
    this.processor = new ConsumerProcessor(db, {
      onError: (e) => this.onError(e, `consumer ${definition.name}`),
      ...definition,
    });
  }

  get inFlight(): number {
    return this.processor.inFlight;
  }

  abstract readLag(): Promise<ConsumerLag>;
  abstract stop(): Promise<void>;

  /** Handles pending control requests: dead letters to replay, a whole-consumer replay. */
  protected async runControl(): Promise<void> {
    if (!this.controlPending) return;
    this.controlPending = false;
    const dl = await this.db.query<{ event_id: string; event_seq: bigint }>(
      `SELECT event_id, event_seq FROM kontor_dead_letters WHERE consumer = $1 AND status = 'replaying' ORDER BY id`,
      [this.name],
    );
    const todo = dl.rows.filter((r) => !this.#replayingDeadLetters.has(r.event_id));
    for (const row of await loadEvents(
      this.db,
      todo.map((r) => BigInt(r.event_seq)),
    )) {
      const stored = toStoredEvent(row);
      this.#replayingDeadLetters.add(stored.event.id);
      const release = () => this.#replayingDeadLetters.delete(stored.event.id);
      await this.processor.submit({
        sequence: stored.sequence,
        event: stored.event,
        replay: true,
        settle: release,
        abandon: release,
      });
    }
    const r = await this.db.query<{ replay_from_seq: bigint | null }>(
      'SELECT replay_from_seq FROM kontor_consumers WHERE name = $1',
      [this.name],
    );
    const from = r.rows[0]?.replay_from_seq;
    if (from !== null && from !== undefined) await this.replayFrom(BigInt(from));
  }

  /** Re-delivers every event of the consumer's types from `from`, then clears the request. */
  protected abstract replayFrom(from: bigint): Promise<void>;

  /** True when events of the consumer's types exist after `after` (i.e. above the horizon, if a fetch found none). */
  protected async hasHeldBack(after: LogPosition): Promise<boolean> {
    const r = await this.db.query<{ more: boolean }>(HELD_BACK_SQL, [
      String(after.txid),
      String(after.seq),
      [...this.processor.definition.types],
    ]);
    return r.rows[0]?.more === true;
  }

  /**
   * Reads the next events of the consumer's types in log order. Only transactions older than the
   * log horizon qualify: their set of events can no longer grow behind the cursor.
   */
  protected async fetchAfter(
    after: LogPosition,
    limit: number,
    range?: { fromSeq: bigint; untilSeq: bigint },
  ): Promise<EventRow[]> {
    const params: unknown[] = [
      String(after.txid),
      String(after.seq),
      [...this.processor.definition.types],
      limit,
    ];
    if (range !== undefined) params.push(String(range.fromSeq), String(range.untilSeq));
    const r = await this.db.query<EventRow>(range === undefined ? FETCH_SQL : FETCH_RANGE_SQL, params);
    return r.rows;
  }
}

/** The embedded consumer: reads the outbox after its position; the position advances over settled events. */
class EmbeddedRunner extends ConsumerRunner {
  #cursor: LogPosition = { txid: 0n, seq: 0n };
  #position: LogPosition = { txid: 0n, seq: 0n };
  #persisted: LogPosition = { txid: 0n, seq: 0n };
  #lastPersistAt = 0;
  /** During a replay: deliveries with fromSeq <= seq and a position up to `until` bypass dead-letter skipping. */
  #replay: { fromSeq: bigint; until: LogPosition } | undefined;
  readonly #pending: LogPosition[] = [];
  readonly #settled = new Set<bigint>();
  #loop: Promise<void> = Promise.resolve();

  async start(): Promise<void> {
    this.#position = this.#persisted = this.#cursor = await ensureConsumerRow(this.db, this.name);
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.runControl();
        // Refill in chunks, not one event per query, once half the in-flight bound is free.
        await this.processor.waitForRoom(Math.ceil((this.processor.definition.maxInFlight ?? 256) / 2));
        const limit = Math.max(1, Math.min(this.processor.room, 500));
        const rows = await this.fetchAfter(this.#cursor, limit);
        const fetchedAt = performance.now();
        if (rows.length > 0) {
          this.onRows();
          const deliveries = rows.map((row): Delivery => {
            const stored = toStoredEvent(row);
            const at = { txid: BigInt(row.txid), seq: stored.sequence };
            this.#pending.push(at);
            this.#cursor = at;
            const replay =
              this.#replay !== undefined &&
              at.seq >= this.#replay.fromSeq &&
              !isAfter(at, this.#replay.until);
            return {
              sequence: stored.sequence,
              event: stored.event,
              replay,
              settle: () => this.#markSettled(at.seq),
            };
          });
          await this.processor.submitAll(deliveries);
          if (this.#replay !== undefined && !isAfter(this.#replay.until, this.#cursor))
            this.#replay = undefined;
        }
        await this.#persist(false);
        // A full read: more is waiting, read on at once.
        if (rows.length >= limit) continue;
        // Caught up with the log horizon. After a local commit (hinted), read again at its next
        // commit, or shortly (its events may wait behind an older transaction), but at most every
        // MIN_FETCH_GAP_MS, so events committed close together are read, and handled, together.
        const hinted = this.hints.next();
        if (hinted !== undefined) {
          await this.waker.wait(hinted);
          const gap = fetchedAt + MIN_FETCH_GAP_MS - performance.now();
          if (gap > 0 && !this.stopped) await sleep(gap);
          continue;
        }
        // Rows that came without a local hint (another process): read on until none come.
        if (rows.length > 0) continue;
        // Committed events above the horizon send no second NOTIFY when the transaction holding
        // the horizon ends, so while some are known to wait, look again shortly.
        await this.waker.wait((await this.hasHeldBack(this.#cursor)) ? HELD_BACK_RETRY_MS : this.pollMs);
      } catch (e) {
        if (this.stopped) break;
        this.onError(e, `consumer ${this.name}`);
        await this.waker.wait(Math.min(this.pollMs, 1_000));
      }
    }
  }

  #markSettled(seq: bigint): void {
    this.#settled.add(seq);
    while (this.#pending.length > 0 && this.#settled.has(this.#pending[0]!.seq)) {
      const p = this.#pending.shift()!;
      this.#settled.delete(p.seq);
      this.#position = p;
    }
  }

  async #persist(force: boolean): Promise<void> {
    if (!isAfter(this.#position, this.#persisted)) return;
    // Writing the position after every event would double the writes (and fsyncs); a lost update
    // only means redelivery after a crash, which the idempotency records absorb. The idle wait
    // (at most pollMs) writes a position held back here.
    if (!force && Date.now() - this.#lastPersistAt < 200) return;
    const pos = this.#position;
    await this.db.query(UPDATE_POSITION_SQL, [this.name, String(pos.txid), String(pos.seq)]);
    this.#persisted = pos;
    this.#lastPersistAt = Date.now();
  }

  protected async replayFrom(from: bigint): Promise<void> {
    await this.processor.waitIdle();
    const start = await findReplayStart(this.db, from);
    if (start !== undefined && isAfter(this.#cursor, start)) {
      this.#pending.length = 0;
      this.#settled.clear();
      this.#replay = { fromSeq: from, until: this.#cursor };
      this.#cursor = this.#position = this.#persisted = start;
    }
    await this.db.query(
      `UPDATE kontor_consumers SET position_txid = $2, position = $3, replay_from_seq = NULL, updated_at = now() WHERE name = $1 AND replay_from_seq = $4`,
      [this.name, String(this.#position.txid), String(this.#position.seq), String(from)],
    );
  }

  async readLag(): Promise<ConsumerLag> {
    const r = await this.db.query<{ n: bigint }>(
      'SELECT count(*) AS n FROM kontor_events WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND type = ANY($3::text[])',
      [String(this.#position.txid), String(this.#position.seq), [...this.processor.definition.types]],
    );
    return { consumer: this.name, pending: Number(r.rows[0]!.n), inFlight: this.processor.inFlight };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.waker.wake();
    await this.processor.stop();
    await this.#loop;
    await this.#persist(true).catch((e: unknown) => this.onError(e, `consumer ${this.name} position`));
  }
}

async function startEmbeddedBus(db: Db, options: EventBusOptions): Promise<EventBus> {
  const wakeups = new Wakeups(db, options.onError ?? defaultOnError);
  const unlisten = await wakeups.start();
  const runners = new Set<EmbeddedRunner>();
  return {
    kind: 'embedded',
    async startConsumer(definition) {
      const runner = new EmbeddedRunner(db, definition, options);
      runner.onRows = () => wakeups.readRows();
      wakeups.events.add(runner);
      wakeups.control.add(runner);
      runners.add(runner);
      await runner.start();
      const stop = runner.stop.bind(runner);
      runner.stop = async () => {
        await stop();
        wakeups.events.delete(runner);
        wakeups.control.delete(runner);
        runners.delete(runner);
      };
      return runner;
    },
    async close() {
      await Promise.all([...runners].map((r) => r.stop()));
      await unlisten();
    },
  };
}

/** A JetStream durable name: letters, digits, `_` and `-` only. */
function durableName(consumer: string): string {
  return consumer.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** The NATS consumer: a durable pull consumer with explicit acks, filtered to the consumer's types. */
class NatsRunner extends ConsumerRunner {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #prefix: string;
  readonly #ackWaitMs: number;
  readonly #unacked = new Set<JsMsg>();
  readonly #types: Set<string>;
  #messages: ConsumerMessages | undefined;
  #loops: Promise<unknown> = Promise.resolve();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(
    db: Db,
    definition: ConsumerDefinition,
    options: EventBusOptions,
    js: JetStreamClient,
    jsm: JetStreamManager,
  ) {
    super(db, definition, options);
    this.#js = js;
    this.#jsm = jsm;
    this.#stream = options.nats?.stream ?? 'KONTOR_EVENTS';
    this.#prefix = options.nats?.subjectPrefix ?? 'kontor.events';
    this.#ackWaitMs = options.nats?.ackWaitMs ?? 30_000;
    this.#types = new Set(definition.types);
    this.processor.deferLaneStart = true;
  }

  async start(): Promise<void> {
    await ensureConsumerRow(this.db, this.name);
    const durable = durableName(this.name);
    const def = this.processor.definition;
    const maxInFlight = def.maxInFlight ?? 256;
    const config = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.#ackWaitMs),
      deliver_policy: DeliverPolicy.All,
      // One filter subject (servers before 2.10 know no filter_subjects); several types filter here.
      filter_subject: def.types.length === 1 ? `${this.#prefix}.${def.types[0]}` : `${this.#prefix}.>`,
      max_ack_pending: Math.max(1_000, maxInFlight * 2),
      // Retries and dead letters are ours (with backoff and a record); JetStream only redelivers after a crash.
      max_deliver: -1,
    };
    try {
      await this.#jsm.consumers.info(this.#stream, durable);
      await this.#jsm.consumers.update(this.#stream, durable, {
        ack_wait: config.ack_wait,
        filter_subject: config.filter_subject,
        max_ack_pending: config.max_ack_pending,
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.#jsm.consumers.add(this.#stream, config);
    }
    const consumer = await this.#js.consumers.get(this.#stream, durable);
    this.#messages = await consumer.consume({ max_messages: Math.min(maxInFlight, 1_000) });
    // Deliveries waiting in a lane behind a retry must not time out and come back as duplicates.
    this.#heartbeat = setInterval(
      () => {
        for (const m of this.#unacked) m.working();
      },
      Math.max(100, Math.floor(this.#ackWaitMs / 3)),
    );
    this.#loops = Promise.all([this.#consume(this.#messages), this.#control()]);
  }

  async #consume(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.stopped) {
          m.nak();
          continue;
        }
        let delivery: Delivery;
        try {
          const event = decodeCloudEvent(m.string());
          if (!this.#types.has(event.type)) {
            m.ack();
            continue;
          }
          const seq = m.headers?.get('Kontor-Seq');
          delivery = {
            sequence: seq ? BigInt(seq) : 0n,
            event,
            settle: () => {
              this.#unacked.delete(m);
              m.ack();
            },
            abandon: () => {
              this.#unacked.delete(m);
              m.nak();
            },
            heartbeat: () => m.working(),
          };
        } catch (e) {
          // Not a Kontor envelope: no retry can make it one.
          this.onError(e, `consumer ${this.name}: undecodable message ${m.seq}`);
          m.term('undecodable');
          continue;
        }
        this.#unacked.add(m);
        await this.processor.submit(delivery);
      }
    } catch (e) {
      if (!this.stopped) this.onError(e, `consumer ${this.name}`);
    }
  }

  async #control(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.runControl();
      } catch (e) {
        if (!this.stopped) this.onError(e, `consumer ${this.name} control`);
      }
      await this.waker.wait(this.pollMs);
      // The timer also re-checks, in case a control NOTIFY was missed.
      this.controlPending = true;
    }
  }

  protected async replayFrom(from: bigint): Promise<void> {
    // The database is the log of record: a replay reads it, not the stream (which may be trimmed).
    const last = await this.db.query<{ seq: bigint | null }>('SELECT max(seq) AS seq FROM kontor_events');
    const range = { fromSeq: from, untilSeq: BigInt(last.rows[0]?.seq ?? 0) };
    let after = await findReplayStart(this.db, from);
    while (after !== undefined && !this.stopped) {
      const rows = await this.fetchAfter(after, 500, range);
      if (rows.length === 0) break;
      for (const row of rows) {
        const stored = toStoredEvent(row);
        after = { txid: BigInt(row.txid), seq: stored.sequence };
        await this.processor.submit({
          sequence: stored.sequence,
          event: stored.event,
          replay: true,
          settle: () => undefined,
        });
      }
    }
    await this.db.query(
      `UPDATE kontor_consumers SET replay_from_seq = NULL, updated_at = now() WHERE name = $1 AND replay_from_seq = $2`,
      [this.name, String(from)],
    );
  }

  async readLag(): Promise<ConsumerLag> {
    const info = await this.#jsm.consumers.info(this.#stream, durableName(this.name));
    return {
      consumer: this.name,
      pending: info.num_pending + info.num_ack_pending,
      inFlight: this.processor.inFlight,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.waker.wake();
    clearInterval(this.#heartbeat);
    await this.#messages?.close().catch(() => undefined);
    await this.processor.stop();
    await this.#loops;
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return (
    err.api_error?.err_code === 10014 ||
    err.api_error?.err_code === 10059 ||
    /not found/i.test(err.message ?? '')
  );
}

async function ensureStream(jsm: JetStreamManager, stream: string, prefix: string): Promise<void> {
  try {
    await jsm.streams.info(stream);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    await jsm.streams.add({
      name: stream,
      subjects: [`${prefix}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      // Relay retries after a crash republish with the same msgID; JetStream drops them within this window.
      duplicate_window: nanos(120_000),
    });
  }
}

/** One message for {@link PipelinedPublisher.publishAll}. */
interface OutgoingMessage {
  subject: string;
  data: string;
  msgID: string;
  seq: bigint;
}

/**
 * Publishes batches to JetStream pipelined: every message of a batch goes out at once with its own
 * reply subject on one inbox subscription, and the stream's acks are collected together. An acked
 * request per message (`js.publish`) waits for each ack in its own promise and builds two Error
 * objects per call (for a possible timeout): measured, that bounded the relay at ~3,600 events/s.
 * `Nats-Msg-Id` = event id, so a batch published again after a failure is deduplicated by the stream.
 */
class PipelinedPublisher {
  readonly #nc: NatsConnection;
  readonly #inbox = createInbox();
  readonly #sub: Subscription;
  readonly #timeoutMs: number;
  #batch:
    | { prefix: string; left: number; resolve: () => void; reject: (e: Error) => void; acked: Set<string> }
    | undefined;
  #next = 0;

  constructor(nc: NatsConnection, timeoutMs: number) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#sub = nc.subscribe(`${this.#inbox}.>`, { callback: (_err, msg) => this.#onAck(msg) });
  }

  #onAck(msg: Msg): void {
    const b = this.#batch;
    // An ack of an earlier batch that already failed or timed out: that batch is published again.
    if (b === undefined || !msg.subject.startsWith(b.prefix)) return;
    const token = msg.subject.slice(b.prefix.length);
    if (b.acked.has(token)) return;
    let error: string | undefined;
    if (msg.headers?.hasError) error = `${msg.headers.code} ${msg.headers.description}`;
    else {
      try {
        const ack = JSON.parse(msg.string()) as { error?: { description?: string; code?: number } };
        if (ack.error) error = `${ack.error.code ?? ''} ${ack.error.description ?? 'error'}`.trim();
      } catch {
        error = 'unreadable publish acknowledgement';
      }
    }
    if (error !== undefined) {
      this.#batch = undefined;
      b.reject(new Error(`JetStream refused a relayed event: ${error}`));
      return;
    }
    b.acked.add(token);
    if (--b.left === 0) {
      this.#batch = undefined;
      b.resolve();
    }
  }

  /** Publishes every message and resolves once the stream acknowledged all of them. */
  async publishAll(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const prefix = `${this.#inbox}.${this.#next++}.`;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => {
      this.#batch = { prefix, left: messages.length, resolve, reject, acked: new Set() };
      timer = setTimeout(() => {
        if (this.#batch?.prefix === prefix) this.#batch = undefined;
        reject(new Error(`JetStream did not acknowledge relayed events within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
    });
    try {
      messages.forEach((m, i) => {
        const h = headers();
        h.set('Nats-Msg-Id', m.msgID);
        h.set('Kontor-Seq', String(m.seq));
        this.#nc.publish(m.subject, m.data, { reply: `${prefix}${i}`, headers: h });
      });
      await done;
    } finally {
      clearTimeout(timer);
      if (this.#batch?.prefix === prefix) this.#batch = undefined;
    }
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}

/** Moves committed outbox rows to JetStream in sequence order and marks them relayed. */
class Relay implements OutboxLoop {
  readonly waker = new Waker();
  readonly hints = new HintedWait();
  /** Told when a batch was relayed (the bus forwards a NOTIFY after local publishes). */
  onRows: () => void = () => undefined;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();
  readonly #db: Db;
  readonly #publisher: PipelinedPublisher;
  readonly #prefix: string;
  readonly #batch: number;
  readonly #pollMs: number;
  readonly #onError: (error: unknown, where: string) => void;

  constructor(db: Db, nc: NatsConnection, options: EventBusOptions) {
    this.#db = db;
    this.#publisher = new PipelinedPublisher(nc, options.nats?.publishTimeoutMs ?? 10_000);
    this.#prefix = options.nats?.subjectPrefix ?? 'kontor.events';
    this.#batch = options.nats?.relayBatch ?? 1_000;
    this.#pollMs = options.pollIntervalMs ?? 5_000;
    this.#onError = options.onError ?? defaultOnError;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        const n = await this.relayOnce();
        if (n > 0) this.onRows();
        const hinted = n < this.#batch ? this.hints.next() : undefined;
        if (n < 0) await this.waker.wait(Math.min(hinted ?? this.#pollMs, 1_000));
        else if (hinted !== undefined) await this.waker.wait(hinted);
        else if (n < this.#batch) {
          // Rows left unrelayed are above the log horizon: their NOTIFY has passed, so look again shortly.
          const left = await this.#db.query<{ more: boolean }>(
            `SELECT EXISTS (SELECT 1 FROM kontor_events e, kontor_consumers r
               WHERE r.name = $1 AND (e.txid, e.seq) > (r.position_txid::text::xid8, r.position)) AS more`,
            [RELAY_POSITION_NAME],
          );
          await this.waker.wait(left.rows[0]?.more === true ? HELD_BACK_RETRY_MS : this.#pollMs);
        }
      } catch (e) {
        if (this.#stopped) break;
        this.#onError(e, 'nats relay');
        await this.waker.wait(Math.min(this.#pollMs, 1_000));
      }
    }
  }

  /** Relays one batch; returns how many rows, or -1 when another relay holds the lock. */
  async relayOnce(): Promise<number> {
    return this.#db.transaction(async (tx) => {
      const lock = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
        RELAY_LOCK_KEY,
      ]);
      if (lock.rows[0]?.ok !== true) return -1;
      const at = await this.#position(tx);
      // Log order after the relay's position, and only transactions that can no longer add rows
      // before the ones relayed (the log horizon): the position never passes a late commit.
      const rows = await tx.query<EventRow>(RELAY_FETCH_SQL, [String(at.txid), String(at.seq), this.#batch]);
      if (rows.rows.length === 0) return 0;
      await this.#publisher.publishAll(
        rows.rows.map((row) => {
          const stored = toStoredEvent(row);
          return {
            subject: `${this.#prefix}.${stored.event.type}`,
            data: encodeCloudEvent(stored.event),
            msgID: stored.event.id,
            seq: stored.sequence,
          };
        }),
      );
      // One row written per batch (not a mark on every event): the position is the last row acked.
      const last = rows.rows.at(-1)!;
      await tx.query(UPDATE_POSITION_SQL, [RELAY_POSITION_NAME, String(last.txid), String(last.seq)]);
      return rows.rows.length;
    });
  }

  /**
   * The relay's position (under the relay lock). A new row starts after the events an earlier
   * version marked `relayed_at` — it relayed in log order too, so they are a prefix of the log.
   */
  async #position(tx: Tx): Promise<LogPosition> {
    const read = () =>
      tx.query<{ position_txid: bigint; position: bigint }>(READ_POSITION_SQL, [RELAY_POSITION_NAME]);
    let r = await read();
    if (r.rows.length === 0) {
      await tx.query(
        `WITH m AS (SELECT txid::text::bigint AS txid, seq FROM kontor_events
           WHERE relayed_at IS NOT NULL ORDER BY kontor_events.txid DESC, kontor_events.seq DESC LIMIT 1)
         INSERT INTO kontor_consumers (name, position_txid, position)
         SELECT $1, coalesce((SELECT txid FROM m), 0), coalesce((SELECT seq FROM m), 0)
         ON CONFLICT (name) DO NOTHING`,
        [RELAY_POSITION_NAME],
      );
      r = await read();
    }
    return { txid: BigInt(r.rows[0]!.position_txid), seq: BigInt(r.rows[0]!.position) };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.waker.wake();
    await this.#loop;
    this.#publisher.close();
  }
}

async function startNatsBus(db: Db, url: string, options: EventBusOptions): Promise<EventBus> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: 'kontor' });
  } catch (e) {
    throw new AppError(
      ErrorCodes.EVENT_BUS_UNAVAILABLE,
      `cannot connect to NATS at ${url}: ${(e as Error).message}`,
      { cause: e, retryable: true },
    );
  }
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await ensureStream(
    jsm,
    options.nats?.stream ?? 'KONTOR_EVENTS',
    options.nats?.subjectPrefix ?? 'kontor.events',
  );
  const relay = new Relay(db, nc, options);
  const wakeups = new Wakeups(db, options.onError ?? defaultOnError);
  relay.onRows = () => wakeups.readRows();
  wakeups.events.add(relay);
  const unlisten = await wakeups.start();
  relay.start();
  const runners = new Set<NatsRunner>();
  return {
    kind: 'nats',
    async startConsumer(definition) {
      const runner = new NatsRunner(db, definition, options, js, jsm);
      wakeups.control.add(runner);
      runners.add(runner);
      await runner.start();
      const stop = runner.stop.bind(runner);
      runner.stop = async () => {
        await stop();
        wakeups.control.delete(runner);
        runners.delete(runner);
      };
      return runner;
    },
    async close() {
      await Promise.all([...runners].map((r) => r.stop()));
      await relay.stop();
      await unlisten();
      await nc.drain().catch(() => nc.close());
    },
  };
}

/**
 * The consumer runtime shared by both buses: lanes of bounded, optionally key-ordered work;
 * idempotency by event id in the handler's own transaction; retries with exponential backoff and
 * jitter; dead letters after the last attempt.
 */
import type { Counter } from 'prom-client';
import { AppError, ErrorCodes, NonRetryableError } from '../domain/index.ts';
import {
  deadLettersTotal,
  eventRetriesTotal,
  eventsConsumedTotal,
  eventsReplayedTotal,
} from '../observability/index.ts';
import { prepared, type Db, type Tx } from '../store/index.ts';
import type { CloudEvent } from './envelope.ts';
import { isReservedConsumerName } from './outbox.ts';

/** What a handler gets besides the event. */
export interface ConsumerContext {
  /** The transaction the handler must make its database effects in; the idempotency record commits with them. */
  tx: Tx;
  consumer: string;
  /** 1 on the first try, 2 on the first retry… */
  attempt: number;
  sequence: bigint;
  /** True when the delivery comes from a replay (of a dead letter or of the consumer). */
  replay: boolean;
}

/** Handles one event; throwing rolls back its transaction and schedules a retry. */
export type EventHandler = (event: CloudEvent, context: ConsumerContext) => Promise<void>;

/** What a batch handler gets besides the events. */
export interface BatchContext {
  tx: Tx;
  consumer: string;
  attempt: number;
  /** Sequence and replay flag of each event, in the same order. */
  deliveries: readonly { sequence: bigint; replay: boolean }[];
}

/**
 * Handles the claimed events of one transaction together (e.g. one multi-row INSERT), in log
 * order; throwing rolls back all of them, and they are retried one by one.
 */
export type BatchEventHandler = (events: CloudEvent[], context: BatchContext) => Promise<void>;

export interface BackoffOptions {
  /** Delay before the first retry, before jitter (default 200 ms). */
  baseMs?: number;
  /** Upper bound of one delay (default 30 s). */
  maxMs?: number;
}

/** A named durable consumer: which events it wants and what it does with them. */
export interface ConsumerDefinition {
  /** Unique, stable name: its position and idempotency records hang off it. */
  name: string;
  /** Event types it receives. */
  types: readonly string[];
  /** Handles one event (give this or `handleBatch`). */
  handle?: EventHandler;
  /**
   * Handles the events of one transaction at once, instead of `handle` (with `batchSize` > 1).
   * Each event still gets its own idempotency record in the same transaction.
   */
  handleBatch?: BatchEventHandler;
  /** Deliver events with the same key one after another, in log order (e.g. `'subject'` = per bank account). */
  orderBy?: 'subject' | ((event: CloudEvent) => string);
  /** Attempts before the event goes to dead letters (default 8). */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Lanes working in parallel (default 8). */
  concurrency?: number;
  /** Events accepted but not yet settled, at most (default 256): the back-pressure bound. */
  maxInFlight?: number;
  /**
   * Events handled in one transaction (default 1). Larger batches commit less often; when one
   * handler of a batch fails, the batch rolls back and its events are retried one by one.
   */
  batchSize?: number;
  /** Called when the runtime itself fails (database unreachable); the delivery will come again. */
  onError?: (error: unknown) => void;
  /** Called after an event is settled (after commit), e.g. for metrics. */
  onSettled?: (event: CloudEvent, outcome: SettleOutcome) => void;
}

/** How a delivery ended: its effects committed, it was already done (or dead), or it went to dead letters. */
export type SettleOutcome = 'done' | 'skipped' | 'dead';

/** One event handed to the processor by a bus. */
export interface Delivery {
  sequence: bigint;
  event: CloudEvent;
  replay?: boolean;
  /** Acknowledges the delivery once it is settled (NATS ack; embedded position). */
  settle(outcome: SettleOutcome): void;
  /** Called when the delivery is abandoned because the consumer stops; it will be delivered again. */
  abandon?(): void;
  /** Tells the bus the delivery is still being worked on (NATS `working()`). */
  heartbeat?(): void;
}

/** The lag of a consumer: events published but not yet settled by it. */
export interface ConsumerLag {
  consumer: string;
  pending: number;
  inFlight: number;
}

/** Computes the delay before retry number `attempt` (1-based): exponential, capped, with equal jitter. */
export function computeBackoff(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? 200;
  const max = options.maxMs ?? 30_000;
  const exp = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  // "Equal jitter": at least half the exponential delay, so backoff stays visible, spread to avoid herds.
  return Math.round(exp / 2 + random() * (exp / 2));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function hashKey(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

// SQLSTATEs of a database that is down, restarting or refusing connections: class 08
// (connection exception), 57P01–57P03 (admin/crash shutdown, cannot connect now), 53300 (too many
// connections).
const OUTAGE_SQLSTATE = /^(08...|57P0[1-3]|53300)$/;
// What node-postgres throws when its connection is gone.
const OUTAGE_MESSAGE =
  /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed and is not queryable|Connection is closed/;
// Socket errors: a database outage only if the database does not answer either (an HTTP call
// of the handler fails with the same codes, and that is the handler's failure).
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/** 'yes' for a database outage, 'maybe' for a socket error, 'no' for anything else (the handler's failure). */
export function classifyOutage(error: unknown): 'yes' | 'maybe' | 'no' {
  let maybe = false;
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    if (e instanceof NonRetryableError) return 'no';
    if (e instanceof AppError && e.code === ErrorCodes.DATABASE_UNREACHABLE) return 'yes';
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && OUTAGE_SQLSTATE.test(code)) return 'yes';
    if (OUTAGE_MESSAGE.test(e.message)) return 'yes';
    if (typeof code === 'string' && SOCKET_CODES.has(code)) maybe = true;
    e = e.cause;
  }
  return maybe ? 'maybe' : 'no';
}

// Claims a batch in one statement: an event is claimed unless already done, or dead-lettered
// (a replay delivery bypasses the dead-letter skip). The claim commits with the handler's effects.
const CLAIM_SQL = prepared(`INSERT INTO kontor_consumer_done (consumer, event_id)
  SELECT $1, d.id FROM unnest($2::text[], $3::boolean[]) AS d(id, replay)
  WHERE d.replay OR NOT EXISTS (
    SELECT 1 FROM kontor_dead_letters dl WHERE dl.consumer = $1 AND dl.event_id = d.id AND dl.status = 'dead')
  ON CONFLICT DO NOTHING
  RETURNING event_id`);

// Events read together share a consumer transaction in groups of at least this many (up to
// batchSize): 4 single-event transactions cost 4 × (BEGIN, claim, handler, COMMIT) round trips,
// one shared transaction BEGIN, claim, 4 × handler, COMMIT.
const MIN_SHARED_BATCH = 4;

// Waits between tries while the database is down: 100 ms growing to 5 s, not counted as attempts.
const OUTAGE_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 5_000 };

type Child = Counter.Internal;

/** The event metrics of one consumer, with its labels bound once (no label lookup per event). */
interface ConsumerMetrics {
  consumed: Record<SettleOutcome, Child>;
  replayed: Record<SettleOutcome, Child>;
  retries: Record<'handler' | 'database', Child>;
  deadLetters: Child;
}

/** Binds the event counters to `consumer` once, for each outcome and reason. */
function bindConsumerMetrics(consumer: string): ConsumerMetrics {
  const byOutcome = (c: Counter<'consumer' | 'outcome'>): Record<SettleOutcome, Child> => ({
    done: c.labels({ consumer, outcome: 'done' }),
    skipped: c.labels({ consumer, outcome: 'skipped' }),
    dead: c.labels({ consumer, outcome: 'dead' }),
  });
  const retries = eventRetriesTotal();
  return {
    consumed: byOutcome(eventsConsumedTotal()),
    replayed: byOutcome(eventsReplayedTotal()),
    retries: {
      handler: retries.labels({ consumer, reason: 'handler' }),
      database: retries.labels({ consumer, reason: 'database' }),
    },
    deadLetters: deadLettersTotal().labels({ consumer }),
  };
}

/** Runs a consumer's deliveries: the part of the runtime that is the same on every bus. */
export class ConsumerProcessor {
  readonly definition: ConsumerDefinition;
  readonly #db: Db;
  readonly #lanes: Delivery[][];
  readonly #laneBusy: boolean[];
  readonly #maxInFlight: number;
  readonly #metrics: ConsumerMetrics;
  readonly #stop = new AbortController();
  /**
   * Start an idle lane only after the deliveries arriving in the same turn are queued, so its
   * first transaction takes a batch of them instead of one (the NATS bus: a pull brings many
   * messages one by one). Off for the embedded bus, where it measurably delayed single events.
   */
  deferLaneStart = false;
  #inFlight = 0;
  #rr = 0;
  #capacityWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  // Deliveries already finished, so an error after a partial batch does not finish them twice.
  readonly #settled = new WeakSet<Delivery>();

  constructor(db: Db, definition: ConsumerDefinition) {
    if ((definition.handle === undefined) === (definition.handleBatch === undefined)) {
      throw new AppError(
        ErrorCodes.VALIDATION_FAILED,
        `consumer ${definition.name} needs exactly one of handle and handleBatch`,
      );
    }
    if (isReservedConsumerName(definition.name)) {
      throw new AppError(
        ErrorCodes.VALIDATION_FAILED,
        `consumer name ${definition.name} is reserved: names cannot start with "$"`,
      );
    }
    this.#db = db;
    this.definition = definition;
    const concurrency = Math.max(1, definition.concurrency ?? 8);
    this.#lanes = Array.from({ length: concurrency }, () => []);
    this.#laneBusy = this.#lanes.map(() => false);
    this.#maxInFlight = Math.max(1, definition.maxInFlight ?? 256);
    this.#metrics = bindConsumerMetrics(definition.name);
  }

  /** Deliveries accepted and not yet settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Room left under the in-flight bound. */
  get room(): number {
    return this.#maxInFlight - this.#inFlight;
  }

  get stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Accepts a delivery, waiting first while the in-flight bound is reached (back-pressure). */
  async submit(delivery: Delivery): Promise<void> {
    while (this.#inFlight >= this.#maxInFlight && !this.stopping) {
      await new Promise<void>((resolve) => this.#capacityWaiters.push(resolve));
    }
    if (this.stopping) {
      delivery.abandon?.();
      return;
    }
    this.#inFlight++;
    const { orderBy } = this.definition;
    let lane: number;
    if (orderBy === undefined) lane = this.#rr++ % this.#lanes.length;
    else {
      const key = orderBy === 'subject' ? (delivery.event.subject ?? '') : orderBy(delivery.event);
      lane = hashKey(key) % this.#lanes.length;
    }
    this.#lanes[lane]!.push(delivery);
    if (this.#laneBusy[lane]) return;
    if (!this.deferLaneStart) {
      void this.#pump(lane);
      return;
    }
    this.#laneBusy[lane] = true;
    setImmediate(() => void this.#pump(lane));
  }

  /**
   * Accepts deliveries read together. Without an ordering key, consecutive ones share a lane up to
   * `batchSize`, so a few events read at once run in one transaction rather than one each (fewer
   * commits); a longer read still spreads over the lanes. With a key, as {@link submit}.
   */
  async submitAll(deliveries: readonly Delivery[]): Promise<void> {
    const batchSize = Math.min(Math.max(1, this.definition.batchSize ?? 1), this.#maxInFlight);
    if (this.definition.orderBy !== undefined || batchSize === 1) {
      for (const d of deliveries) await this.submit(d);
      return;
    }
    // Spread a longer read over the lanes, but keep at least a few events per transaction.
    const size = Math.min(
      batchSize,
      Math.max(MIN_SHARED_BATCH, Math.ceil(deliveries.length / this.#lanes.length)),
    );
    for (let i = 0; i < deliveries.length; i += size) {
      const chunk = deliveries.slice(i, i + size);
      await this.waitForRoom(chunk.length);
      if (this.stopping) {
        for (const d of deliveries.slice(i)) d.abandon?.();
        return;
      }
      const lane = this.#quietestLane();
      this.#inFlight += chunk.length;
      this.#lanes[lane]!.push(...chunk);
      if (!this.#laneBusy[lane]) void this.#pump(lane);
    }
  }

  /** An idle lane with nothing queued (taken in turn), else the one with the shortest queue. */
  #quietestLane(): number {
    let best = 0;
    for (let k = 0; k < this.#lanes.length; k++) {
      const lane = (this.#rr + k) % this.#lanes.length;
      if (!this.#laneBusy[lane] && this.#lanes[lane]!.length === 0) {
        this.#rr = lane + 1;
        return lane;
      }
      if (this.#lanes[lane]!.length < this.#lanes[best]!.length) best = lane;
    }
    return best;
  }

  /** Resolves once at least `n` more deliveries fit under the bound (or the processor stops). */
  async waitForRoom(n: number): Promise<void> {
    const want = Math.min(n, this.#maxInFlight);
    while (this.room < want && !this.stopping) {
      await new Promise<void>((resolve) => this.#capacityWaiters.push(resolve));
    }
  }

  /** Resolves once nothing is in flight. */
  async waitIdle(): Promise<void> {
    if (this.#inFlight === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops accepting work, cuts retry waits short and waits for running transactions to end. */
  async stop(): Promise<void> {
    this.#stop.abort();
    for (const w of this.#capacityWaiters.splice(0)) w();
    await this.waitIdle();
  }

  async #pump(lane: number): Promise<void> {
    this.#laneBusy[lane] = true;
    const queue = this.#lanes[lane]!;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, Math.max(1, this.definition.batchSize ?? 1));
        if (this.stopping) {
          for (const d of batch) this.#finish(d, undefined);
          continue;
        }
        try {
          await this.#runBatch(batch);
        } catch (error) {
          // Only infrastructure fails here (the dead-letter write itself): leave the unsettled
          // deliveries to be delivered again rather than crash the process.
          for (const d of batch) if (!this.#settled.has(d)) this.#finish(d, undefined);
          this.definition.onError?.(error);
        }
      }
    } finally {
      this.#laneBusy[lane] = false;
    }
  }

  #finish(delivery: Delivery, outcome: SettleOutcome | undefined): void {
    this.#settled.add(delivery);
    if (outcome === undefined) delivery.abandon?.();
    else {
      delivery.settle(outcome);
      this.#metrics.consumed[outcome].inc();
      if (delivery.replay === true) this.#metrics.replayed[outcome].inc();
      try {
        this.definition.onSettled?.(delivery.event, outcome);
      } catch {
        // A metrics callback must not break delivery.
      }
    }
    this.#inFlight--;
    this.#capacityWaiters.shift()?.();
    if (this.#inFlight === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  async #runBatch(batch: Delivery[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const outcomes = await this.#attempt(batch, 1);
        batch.forEach((d, i) => this.#finish(d, outcomes[i]));
        return;
      } catch {
        // One handler failed and the whole batch rolled back: retry each alone to find it.
      }
    }
    for (const d of batch) this.#finish(d, await this.#runOne(d));
  }

  async #runOne(delivery: Delivery): Promise<SettleOutcome | undefined> {
    const maxAttempts = Math.max(1, this.definition.maxAttempts ?? 8);
    const attemptedAt: Date[] = [];
    let attempt = 1;
    let outages = 0;
    for (;;) {
      attemptedAt.push(new Date());
      try {
        const [outcome] = await this.#attempt([delivery], attempt);
        return outcome;
      } catch (error) {
        if (await this.#isOutage(error)) {
          // The database failed, not the handler: wait for it without using up an attempt.
          attemptedAt.pop();
          this.definition.onError?.(error);
          if (!(await this.#pause(delivery, ++outages, OUTAGE_BACKOFF))) return undefined;
          this.#metrics.retries.database.inc();
          continue;
        }
        if (error instanceof NonRetryableError || attempt >= maxAttempts) {
          const ok = await this.#whileOutage(delivery, () => this.#deadLetter(delivery, attemptedAt, error));
          if (ok) this.#metrics.deadLetters.inc();
          return ok ? 'dead' : undefined;
        }
        if (!(await this.#pause(delivery, attempt, this.definition.backoff))) return undefined;
        this.#metrics.retries.handler.inc();
        attempt++;
      }
    }
  }

  /** Waits the backoff of `n`, keeping the delivery alive; false when the processor stops meanwhile. */
  async #pause(delivery: Delivery, n: number, backoff: BackoffOptions | undefined): Promise<boolean> {
    if (this.stopping) return false;
    delivery.heartbeat?.();
    await sleep(computeBackoff(n, backoff), this.#stop.signal);
    if (this.stopping) return false;
    delivery.heartbeat?.();
    return true;
  }

  /** True when `error` comes from a database outage (checked with a probe for a bare socket error). */
  async #isOutage(error: unknown): Promise<boolean> {
    const kind = classifyOutage(error);
    if (kind !== 'maybe') return kind === 'yes';
    try {
      await this.#db.query('SELECT 1');
      return false;
    } catch {
      return true;
    }
  }

  /** Runs `write` until it succeeds, waiting out database outages; false when the processor stops. */
  async #whileOutage(delivery: Delivery, write: () => Promise<void>): Promise<boolean> {
    for (let outages = 1; ; outages++) {
      try {
        await write();
        return true;
      } catch (error) {
        if (!(await this.#isOutage(error))) throw error;
        this.definition.onError?.(error);
        if (!(await this.#pause(delivery, outages, OUTAGE_BACKOFF))) return false;
        this.#metrics.retries.database.inc();
      }
    }
  }

  async #attempt(batch: Delivery[], attempt: number): Promise<SettleOutcome[]> {
    const { name } = this.definition;
    return this.#db.transaction(async (tx) => {
      const claim = await tx.query<{ event_id: string }>(CLAIM_SQL, [
        name,
        batch.map((d) => d.event.id),
        batch.map((d) => d.replay === true),
      ]);
      const claimed = new Set(claim.rows.map((r) => r.event_id));
      const outcomes: SettleOutcome[] = [];
      // A duplicate of the same event in one batch (a redelivery) runs once.
      const mine = batch.map((d) => claimed.delete(d.event.id));
      const { handle, handleBatch } = this.definition;
      if (handleBatch !== undefined) {
        const run = batch.filter((_, i) => mine[i]);
        if (run.length > 0)
          await handleBatch(
            run.map((d) => d.event),
            {
              tx,
              consumer: name,
              attempt,
              deliveries: run.map((d) => ({ sequence: d.sequence, replay: d.replay === true })),
            },
          );
      }
      for (const [i, d] of batch.entries()) {
        const replay = d.replay === true;
        if (mine[i] && handle !== undefined)
          await handle(d.event, { tx, consumer: name, attempt, sequence: d.sequence, replay });
        if (replay) {
          await tx.query(
            `UPDATE kontor_dead_letters SET status = 'replayed', replayed_at = now(), updated_at = now()
             WHERE consumer = $1 AND event_id = $2 AND status <> 'replayed'`,
            [name, d.event.id],
          );
        }
        outcomes.push(mine[i] ? 'done' : 'skipped');
      }
      return outcomes;
    });
  }

  async #deadLetter(delivery: Delivery, attemptedAt: Date[], error: unknown): Promise<void> {
    const e = error instanceof Error ? error : new Error(String(error));
    await this.#db.query(
      `INSERT INTO kontor_dead_letters (consumer, event_id, event_seq, event_type, attempts, attempted_at, last_error, last_error_stack)
       VALUES ($1, $2, $3, $4, $5, $6::timestamptz[], $7, $8)
       ON CONFLICT (consumer, event_id) DO UPDATE SET status = 'dead',
         attempts = kontor_dead_letters.attempts + EXCLUDED.attempts,
         attempted_at = kontor_dead_letters.attempted_at || EXCLUDED.attempted_at,
         last_error = EXCLUDED.last_error, last_error_stack = EXCLUDED.last_error_stack, updated_at = now()`,
      [
        this.definition.name,
        delivery.event.id,
        String(delivery.sequence),
        delivery.event.type,
        attemptedAt.length,
        attemptedAt.map((d) => d.toISOString()),
        `${e.name}: ${e.message}`,
        e.stack ?? null,
      ],
    );
  }
}

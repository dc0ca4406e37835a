/**
 * What both buses share around the ConsumerProcessor: one consumer runner life cycle (start at the
 * stored position, control requests, stop), and {@link runBus}, the one way a bus starts its
 * consumers, wakes them and closes.
 */
import { reportConsumerLag } from '../observability/index.ts';
import type { Db } from '../store/index.ts';
import type { ConsumerHandle, EventBus } from './bus.ts';
import { ConsumerProcessor, type ConsumerDefinition, type ConsumerLag } from './consumer.ts';
import { ensureConsumerRow, fetchEventsAfter, loadEvents, type LogPosition } from './log-reader.ts';
import { toStoredEvent, type EventRow } from './outbox.ts';
import { HintedWait, Waker, Wakeups, type ControlLoop, type OutboxLoop } from './wakeups.ts';

/** The bus options with their defaults filled in, once, by startEventBus. */
export interface BusSettings {
  /** Fallback poll when no NOTIFY arrives. */
  readonly pollMs: number;
  readonly onError: (error: unknown, where: string) => void;
  readonly nats: {
    readonly stream: string;
    readonly subjectPrefix: string;
    readonly ackWaitMs: number;
    readonly relayBatch: number;
    readonly publishTimeoutMs: number;
  };
}

/**
 * One consumer on a bus: the processor, the wake-ups, dead-letter and consumer replays, and the
 * life cycle both buses follow — `start` creates the consumer's row and opens the bus's source at
 * the stored position, then runs the bus's loop; `stop` interrupts the source, lets running
 * transactions end, waits for the loop and flushes.
 */
export abstract class ConsumerRunner implements ConsumerHandle, OutboxLoop, ControlLoop {
  readonly name: string;
  readonly processor: ConsumerProcessor;
  readonly waker = new Waker();
  readonly hints = new HintedWait();
  /** True when the runner reads the outbox itself, so NOTIFYs and local publish hints concern it. */
  abstract readonly readsOutbox: boolean;
  /** Told when a fetch returned rows (the bus forwards a NOTIFY after local publishes). */
  onRows: () => void = () => undefined;
  /** Told once the runner stopped (the bus forgets it). */
  onStopped: () => void = () => undefined;
  controlPending = true;
  protected readonly db: Db;
  protected readonly settings: BusSettings;
  protected stopped = false;
  readonly #replayingDeadLetters = new Set<string>();
  #loop: Promise<void> = Promise.resolve();

  constructor(db: Db, definition: ConsumerDefinition, settings: BusSettings) {
    this.db = db;
    this.name = definition.name;
    this.settings = settings;
    this.processor = new ConsumerProcessor(db, {
      onError: (e) => this.onError(e, `consumer ${definition.name}`),
      ...definition,
    });
  }

  /** Deliveries accepted and not yet settled, right now. */
  get inFlight(): number {
    return this.processor.inFlight;
  }

  protected get pollMs(): number {
    return this.settings.pollMs;
  }

  protected onError(error: unknown, where: string): void {
    this.settings.onError(error, where);
  }

  /** Creates the consumer's row if new, opens the bus's source at the stored position and starts the loop. */
  async start(): Promise<void> {
    const position = await ensureConsumerRow(this.db, this.name);
    await this.open(position);
    this.#loop = this.run();
  }

  /** Stops taking deliveries, lets running transactions end and waits for the loop. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.waker.wake();
    await this.interrupt();
    await this.processor.stop();
    await this.#loop;
    await this.flush();
    this.onStopped();
  }

  /** Opens the bus's source of deliveries, at the consumer's stored position. */
  protected abstract open(position: LogPosition): Promise<void>;
  /** The loop of the consumer, until stopped; never rejects. */
  protected abstract run(): Promise<void>;
  /** Stops the source from delivering more (called before the processor stops). */
  protected async interrupt(): Promise<void> {}
  /** Writes what the loop holds back (called last). */
  protected async flush(): Promise<void> {}
  /** Re-delivers every event of the consumer's types from `from`, then clears the request. */
  protected abstract replayFrom(from: bigint): Promise<void>;
  /** Events of its types not yet settled by it. */
  abstract readLag(): Promise<ConsumerLag>;

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

  /** Reads the next events of the consumer's types in log order, below the log horizon. */
  protected fetchAfter(
    after: LogPosition,
    limit: number,
    range?: { fromSeq: bigint; untilSeq: bigint },
  ): Promise<EventRow[]> {
    return fetchEventsAfter(this.db, after, limit, this.processor.definition.types, range);
  }
}

/** A loop of a bus besides its consumers (the NATS relay): woken like them, started once LISTEN runs. */
export interface BusLoop extends OutboxLoop {
  onRows: () => void;
  start(): void;
  stop(): Promise<void>;
}

/** What one kind of bus brings to {@link runBus}. */
export interface BusTransport {
  readonly kind: EventBus['kind'];
  /** A runner for one consumer, not started yet. */
  createRunner(definition: ConsumerDefinition): ConsumerRunner;
  /** Loops that read the outbox besides the consumers (the NATS relay). */
  readonly loops: readonly BusLoop[];
  /** Releases what the transport holds (the NATS connection), once every runner and loop stopped. */
  close(): Promise<void>;
}

/**
 * Runs a bus over a transport: one LISTEN connection and local-publish hint fan-out for all its
 * loops, consumers started and stopped one way on both buses, and a close that stops everything.
 * Closes the transport when LISTEN cannot start.
 */
export async function runBus(db: Db, settings: BusSettings, transport: BusTransport): Promise<EventBus> {
  const wakeups = new Wakeups(db, settings.onError);
  for (const loop of transport.loops) {
    loop.onRows = () => wakeups.readRows();
    wakeups.watch(loop, { events: true, control: false });
  }
  let unlisten: () => Promise<void>;
  try {
    unlisten = await wakeups.start();
  } catch (e) {
    await transport.close();
    throw e;
  }
  for (const loop of transport.loops) loop.start();
  const runners = new Set<ConsumerRunner>();
  return {
    kind: transport.kind,
    async startConsumer(definition) {
      const runner = transport.createRunner(definition);
      runner.onRows = () => wakeups.readRows();
      const unwatch = wakeups.watch(runner, { events: runner.readsOutbox, control: true });
      runners.add(runner);
      let unreport: () => void = () => undefined;
      runner.onStopped = () => {
        unwatch();
        unreport();
        runners.delete(runner);
      };
      try {
        await runner.start();
      } catch (e) {
        await runner.stop();
        throw e;
      }
      unreport = reportConsumerLag(() => runner.readLag());
      return runner;
    },
    async close() {
      await Promise.all([...runners].map((r) => r.stop()));
      for (const loop of transport.loops) await loop.stop();
      await unlisten();
      await transport.close();
    },
  };
}

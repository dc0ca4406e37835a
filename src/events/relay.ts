/**
 * The NATS relay: moves committed outbox rows to the JetStream stream in log order (one relay at a
 * time, under an advisory lock) and stores how far it got as one position row.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Db, Tx } from '../store/index.ts';
import { encodeCloudEvent } from './envelope.ts';
import { fetchEventsAfter, positionOf, readPosition, writePosition, type LogPosition } from './log-reader.ts';
import { PipelinedPublisher } from './nats-publisher.ts';
import { RELAY_POSITION_NAME, toStoredEvent } from './outbox.ts';
import type { BusLoop, BusSettings } from './runner.ts';
import { HELD_BACK_RETRY_MS, HintedWait, Waker } from './wakeups.ts';

// Only one relay at a time moves rows to JetStream, so the stream keeps the outbox order.
const RELAY_LOCK_KEY = 7_204_013;

/** Moves committed outbox rows to JetStream in log order and moves the relay's position past them. */
export class Relay implements BusLoop {
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

  constructor(db: Db, nc: NatsConnection, settings: BusSettings) {
    this.#db = db;
    this.#publisher = new PipelinedPublisher(nc, settings.nats.publishTimeoutMs);
    this.#prefix = settings.nats.subjectPrefix;
    this.#batch = settings.nats.relayBatch;
    this.#pollMs = settings.pollMs;
    this.#onError = settings.onError;
  }

  /** Starts the relay loop. */
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
      const rows = await fetchEventsAfter(tx, at, this.#batch);
      if (rows.length === 0) return 0;
      await this.#publisher.publishAll(
        rows.map((row) => {
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
      const last = rows.at(-1)!;
      await writePosition(tx, RELAY_POSITION_NAME, positionOf(last));
      return rows.length;
    });
  }

  /**
   * The relay's position (under the relay lock). A new row starts after the events an earlier
   * version marked `relayed_at` — it relayed in log order too, so they are a prefix of the log.
   */
  async #position(tx: Tx): Promise<LogPosition> {
    const at = await readPosition(tx, RELAY_POSITION_NAME);
    if (at !== undefined) return at;
    await tx.query(
      `WITH m AS (SELECT txid::text::bigint AS txid, seq FROM kontor_events
         WHERE relayed_at IS NOT NULL ORDER BY kontor_events.txid DESC, kontor_events.seq DESC LIMIT 1)
       INSERT INTO kontor_consumers (name, position_txid, position)
       SELECT $1, coalesce((SELECT txid FROM m), 0), coalesce((SELECT seq FROM m), 0)
       ON CONFLICT (name) DO NOTHING`,
      [RELAY_POSITION_NAME],
    );
    return (await readPosition(tx, RELAY_POSITION_NAME))!;
  }

  /** Stops the loop (after the batch in progress) and the publisher. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.waker.wake();
    await this.#loop;
    this.#publisher.close();
  }
}

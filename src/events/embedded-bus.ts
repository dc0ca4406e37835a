/**
 * The embedded bus: each consumer reads the outbox table itself after its stored position, woken
 * by NOTIFY and by local publish hints; its position advances over settled events.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepared, type Db } from '../store/index.ts';
import type { EventBus } from './bus.ts';
import type { ConsumerLag, Delivery } from './consumer.ts';
import { findReplayStart, isAfter, positionOf, writePosition, type LogPosition } from './log-reader.ts';
import { toStoredEvent } from './outbox.ts';
import { ConsumerRunner, runBus, type BusSettings } from './runner.ts';
import { HELD_BACK_RETRY_MS } from './wakeups.ts';

// While local commits keep coming, a consumer reads the log at most this often (it reads what
// committed meanwhile in one query, and runs it in one transaction per lane batch).
const MIN_FETCH_GAP_MS = 5;
// A settled position is written at most this often while events flow (see #persist).
const PERSIST_INTERVAL_MS = 200;

const HELD_BACK_SQL = prepared(
  'SELECT EXISTS (SELECT 1 FROM kontor_events WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND type = ANY($3::text[])) AS more',
);

/** The embedded consumer: reads the outbox after its position; the position advances over settled events. */
class EmbeddedRunner extends ConsumerRunner {
  readonly readsOutbox = true;
  #cursor: LogPosition = { txid: 0n, seq: 0n };
  #position: LogPosition = { txid: 0n, seq: 0n };
  #persisted: LogPosition = { txid: 0n, seq: 0n };
  #lastPersistAt = 0;
  /** During a replay: deliveries with fromSeq <= seq and a position up to `until` bypass dead-letter skipping. */
  #replay: { fromSeq: bigint; until: LogPosition } | undefined;
  readonly #pending: LogPosition[] = [];
  readonly #settled = new Set<bigint>();

  protected async open(position: LogPosition): Promise<void> {
    this.#position = this.#persisted = this.#cursor = position;
  }

  protected async run(): Promise<void> {
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
            const at = positionOf(row);
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
        await this.waker.wait((await this.#hasHeldBack(this.#cursor)) ? HELD_BACK_RETRY_MS : this.pollMs);
      } catch (e) {
        if (this.stopped) break;
        this.onError(e, `consumer ${this.name}`);
        await this.waker.wait(Math.min(this.pollMs, 1_000));
      }
    }
  }

  /** True when events of the consumer's types exist after `after` (i.e. above the horizon, if a fetch found none). */
  async #hasHeldBack(after: LogPosition): Promise<boolean> {
    const r = await this.db.query<{ more: boolean }>(HELD_BACK_SQL, [
      String(after.txid),
      String(after.seq),
      [...this.processor.definition.types],
    ]);
    return r.rows[0]?.more === true;
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
    if (!force && Date.now() - this.#lastPersistAt < PERSIST_INTERVAL_MS) return;
    const pos = this.#position;
    await writePosition(this.db, this.name, pos);
    this.#persisted = pos;
    this.#lastPersistAt = Date.now();
  }

  protected override async flush(): Promise<void> {
    await this.#persist(true).catch((e: unknown) => this.onError(e, `consumer ${this.name} position`));
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
}

/** Starts the embedded bus: consumers read the outbox of `db` directly. */
export function startEmbeddedBus(db: Db, settings: BusSettings): Promise<EventBus> {
  return runBus(db, settings, {
    kind: 'embedded',
    createRunner: (definition) => new EmbeddedRunner(db, definition, settings),
    loops: [],
    close: async () => undefined,
  });
}

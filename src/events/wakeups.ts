/**
 * Wake-ups of the loops that read the outbox: a latch woken by NOTIFY, short growing waits after a
 * local commit (hints), and the one LISTEN connection of a bus fanned out to all its loops.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { prepared, type Db } from '../store/index.ts';
import { CONTROL_PAYLOAD } from './dead-letters.ts';
import { EVENTS_CHANNEL, onLocalPublish } from './outbox.ts';

/** How soon a loop looks again when committed events wait behind a transaction still running. */
export const HELD_BACK_RETRY_MS = 5;
// After a publishing commit in this process (hinted once committed; it sends no NOTIFY), read at
// once; if its events are still held back by an older transaction of the database, look again
// after 1, 2, 4… ms, up to 50 ms apart, for 2 s after the last hint; then back to the slow poll.
const HINT_WINDOW_MS = 2_000;
const HINT_FIRST_MS = 1;
const HINT_MAX_MS = 50;
// Local publishes are announced to other processes by at most one NOTIFY this often.
const FORWARD_INTERVAL_MS = 10;

const NOTIFY_SQL = prepared('SELECT pg_notify($1, $2)');

/** A latch: `wait` returns at the next `wake` or after a timeout; a wake before the wait is not lost. */
export class Waker {
  #pending = false;
  #resolve: (() => void) | undefined;

  /** Ends the current wait, or the next one if none is running. */
  wake(): void {
    this.#pending = true;
    const r = this.#resolve;
    this.#resolve = undefined;
    r?.();
  }

  /** Resolves at the next wake (at once if one came since the last wait) or after `ms`. */
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
export class HintedWait {
  #last = -Infinity;
  #delay = HINT_FIRST_MS;

  /** A local publishing transaction committed: start again from the shortest wait. */
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
export interface OutboxLoop {
  readonly waker: Waker;
  readonly hints: HintedWait;
}

/** A loop that handles control requests (dead-letter and consumer replays), woken by their NOTIFY. */
export interface ControlLoop {
  controlPending: boolean;
  readonly waker: Waker;
}

/**
 * Fan-out of the one LISTEN connection and of local publish hints to every loop of the bus. Once
 * a loop has read rows after a local hint, one NOTIFY (outside any transaction, so it takes the
 * notify lock only for an instant) tells other processes; its own echo is ignored.
 */
export class Wakeups {
  readonly #events = new Set<OutboxLoop>();
  readonly #control = new Set<ControlLoop>();
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

  /** Wakes `loop` on new events (NOTIFY, local hints) and/or control requests; returns the function that stops that. */
  watch(loop: OutboxLoop | ControlLoop, on: { events: boolean; control: boolean }): () => void {
    if (on.events) this.#events.add(loop as OutboxLoop);
    if (on.control) this.#control.add(loop as ControlLoop);
    return () => {
      this.#events.delete(loop as OutboxLoop);
      this.#control.delete(loop as ControlLoop);
    };
  }

  /** A NOTIFY on the events channel arrived. */
  dispatch(payload: string): void {
    if (payload === CONTROL_PAYLOAD) {
      for (const c of this.#control) {
        c.controlPending = true;
        c.waker.wake();
      }
    } else if (payload !== this.#self) for (const l of this.#events) l.waker.wake();
  }

  /** A publishing transaction of this process committed. */
  hint(): void {
    this.#hintedSinceForward = true;
    for (const l of this.#events) {
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

/**
 * Retention of the event log: events older than a configurable age are deleted once nothing can
 * still need them from the log — every consumer has passed them, and no dead letter refers to them.
 */
import { AppError, ErrorCodes } from '../domain/index.ts';
import type { Db } from '../store/index.ts';
import { RELAY_POSITION_NAME, RELAYED_SQL } from './outbox.ts';

export interface RetentionOptions {
  /** Events recorded longer ago than this may be deleted (default 30 days). */
  maxAgeMs?: number;
  /** Rows deleted per statement (default 5,000): short transactions, no long lock on the log. */
  batchSize?: number;
}

export interface PruneInput extends RetentionOptions {
  /**
   * Which bus reads the log. `embedded`: every consumer's stored position must be past the event.
   * `nats`: the event must have been relayed (JetStream holds the consumers' copy; a replay of
   * older events reads only what the log still has).
   */
  bus: 'embedded' | 'nats';
}

export const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Checks retention options; a bad value is a typed configuration error. */
export function checkRetention(options: RetentionOptions): Required<RetentionOptions> {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_RETENTION_MS;
  const batchSize = options.batchSize ?? 5_000;
  if (!Number.isFinite(maxAgeMs) || maxAgeMs < 0) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `event retention must be a positive age (got ${maxAgeMs} ms)`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `event retention batch must be a positive integer (got ${batchSize})`,
    );
  }
  return { maxAgeMs, batchSize };
}

/**
 * Deletes expired events that every consumer has passed and no dead letter refers to, in batches;
 * returns how many. Both the event time (indexed) and the database's own recording time must be
 * past the age, so a publisher's wrong clock cannot expire an event early.
 */
export async function pruneEventLog(db: Db, input: PruneInput): Promise<number> {
  const { maxAgeMs, batchSize } = checkRetention(input);
  const passed =
    input.bus === 'nats'
      ? RELAYED_SQL('e')
      : `NOT EXISTS (SELECT 1 FROM kontor_consumers c
           WHERE c.name <> '${RELAY_POSITION_NAME}' AND (e.txid::text::bigint, e.seq) > (c.position_txid, c.position))`;
  let total = 0;
  for (;;) {
    const r = await db.query(
      `DELETE FROM kontor_events WHERE seq IN (
         SELECT e.seq FROM kontor_events e
         WHERE e.time < now() - $1::bigint * interval '1 millisecond'
           AND e.recorded_at < now() - $1::bigint * interval '1 millisecond'
           AND ${passed}
           AND NOT EXISTS (SELECT 1 FROM kontor_dead_letters d WHERE d.event_id = e.id)
         LIMIT $2)`,
      [String(Math.floor(maxAgeMs)), batchSize],
    );
    total += r.rowCount;
    if (r.rowCount < batchSize) return total;
  }
}

/**
 * Deletes the idempotency records (`kontor_consumer_done`) of events the embedded bus can never
 * deliver again: recorded longer ago than the age, of an event no longer in the log. On the
 * embedded bus every delivery and replay reads the log, and an event leaves it only once every
 * consumer has passed it, so such a record guards nothing. Not for NATS: the stream keeps its own
 * copy of every event (no age limit), and a durable consumer created again would redeliver it.
 * Walks the primary key in pages of `batchSize`, one short statement each (a long transaction
 * would hold back the log horizon and so delivery). Returns how many records went.
 */
export async function pruneIdempotencyRecords(db: Db, options: RetentionOptions = {}): Promise<number> {
  const { maxAgeMs, batchSize } = checkRetention(options);
  let after = { consumer: '', eventId: '' };
  let total = 0;
  for (;;) {
    const r = await db.query<{
      deleted: bigint;
      scanned: bigint;
      last_consumer: string;
      last_event_id: string;
    }>(
      `WITH page AS (
         SELECT consumer, event_id, done_at FROM kontor_consumer_done
         WHERE (consumer, event_id) > ($1, $2) ORDER BY consumer, event_id LIMIT $3
       ), gone AS (
         DELETE FROM kontor_consumer_done d USING page p
         WHERE d.consumer = p.consumer AND d.event_id = p.event_id
           AND p.done_at < now() - $4::bigint * interval '1 millisecond'
           AND NOT EXISTS (SELECT 1 FROM kontor_events e WHERE e.id = p.event_id)
         RETURNING 1
       ), last AS (SELECT consumer, event_id FROM page ORDER BY consumer DESC, event_id DESC LIMIT 1)
       SELECT (SELECT count(*) FROM gone) AS deleted, (SELECT count(*) FROM page) AS scanned,
              (SELECT consumer FROM last) AS last_consumer, (SELECT event_id FROM last) AS last_event_id`,
      [after.consumer, after.eventId, batchSize, String(Math.floor(maxAgeMs))],
    );
    const row = r.rows[0]!;
    total += Number(row.deleted);
    if (Number(row.scanned) < batchSize) return total;
    after = { consumer: row.last_consumer, eventId: row.last_event_id };
  }
}

/** When and how {@link startRetention} prunes: the retention options plus how often. */
export interface RetentionSchedule extends RetentionOptions {
  /** Time between two prunes (default 1 h); the first runs soon after start. */
  intervalMs?: number;
}

/**
 * Runs {@link pruneEventLog} every `intervalMs` (default 1 h), the first time soon after start;
 * on the embedded bus also {@link pruneIdempotencyRecords}. A failing round is reported and the
 * next one runs on schedule. Bad options throw at once.
 */
export function startRetention(
  db: Db,
  bus: PruneInput['bus'],
  schedule: RetentionSchedule,
  onError: (error: unknown, where: string) => void,
): { stop(): Promise<void> } {
  const { maxAgeMs, batchSize } = checkRetention(schedule);
  const intervalMs = schedule.intervalMs ?? 60 * 60 * 1000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const next = (ms: number) => {
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
          if (!stopped) next(intervalMs);
        });
    }, ms);
    timer.unref();
  };
  next(Math.min(intervalMs, 10_000));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

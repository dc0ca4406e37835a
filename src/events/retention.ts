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

/**
 * Dead letters and replays: reading what a consumer gave up on, and asking the running consumer to
 * try again. Requests are rows plus a NOTIFY, so the CLI and the API work from any process.
 */
import { ConflictError, NotFoundError, ValidationError } from '../domain/index.ts';
import type { Queryable } from '../store/index.ts';
import type { StoredEvent } from './envelope.ts';
import { EVENTS_CHANNEL, getEvent, isReservedConsumerName } from './outbox.ts';

/** Payload of the NOTIFY that wakes consumers to look for replay requests. */
export const CONTROL_PAYLOAD = 'control';

export type DeadLetterStatus = 'dead' | 'replaying' | 'replayed';

/** One event a consumer gave up on. */
export interface DeadLetter {
  id: bigint;
  consumer: string;
  eventId: string;
  eventSequence: bigint;
  eventType: string;
  status: DeadLetterStatus;
  attempts: number;
  /** When each attempt started, oldest first: the backoff between retries is visible here. */
  attemptedAt: Date[];
  lastError: string;
  lastErrorStack: string | null;
  createdAt: Date;
  updatedAt: Date;
  replayedAt: Date | null;
}

interface DeadLetterRow {
  id: bigint;
  consumer: string;
  event_id: string;
  event_seq: bigint;
  event_type: string;
  status: DeadLetterStatus;
  attempts: number;
  attempted_at: (Date | string)[];
  last_error: string;
  last_error_stack: string | null;
  created_at: Date;
  updated_at: Date;
  replayed_at: Date | null;
}

function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: BigInt(r.id),
    consumer: r.consumer,
    eventId: r.event_id,
    eventSequence: BigInt(r.event_seq),
    eventType: r.event_type,
    status: r.status,
    attempts: r.attempts,
    attemptedAt: r.attempted_at.map((d) => new Date(d)),
    lastError: r.last_error,
    lastErrorStack: r.last_error_stack,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    replayedAt: r.replayed_at === null ? null : new Date(r.replayed_at),
  };
}

export interface ListDeadLettersInput {
  consumer?: string;
  status?: DeadLetterStatus;
  /** Only dead letters with a larger id (the cursor of the previous page). */
  after?: bigint | number | string;
  limit?: number;
}

/** Lists dead letters, oldest first. */
export async function listDeadLetters(
  db: Queryable,
  input: ListDeadLettersInput = {},
): Promise<DeadLetter[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (input.consumer !== undefined) where.push(`consumer = $${params.push(input.consumer)}`);
  if (input.status !== undefined) where.push(`status = $${params.push(input.status)}`);
  if (input.after !== undefined) where.push(`id > $${params.push(String(input.after))}`);
  const limit = Math.min(Math.max(input.limit ?? 100, 1), 1000);
  const r = await db.query<DeadLetterRow>(
    `SELECT * FROM kontor_dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${limit}`,
    params,
  );
  return r.rows.map(toDeadLetter);
}

/** Reads one dead letter with its event; throws NotFoundError when there is none with that id. */
export async function getDeadLetter(
  db: Queryable,
  id: bigint | number | string,
): Promise<DeadLetter & { event: StoredEvent | undefined }> {
  const r = await db.query<DeadLetterRow>('SELECT * FROM kontor_dead_letters WHERE id = $1', [String(id)]);
  const row = r.rows[0];
  if (row === undefined) throw new NotFoundError(`no dead letter with id ${String(id)}`);
  const dl = toDeadLetter(row);
  return { ...dl, event: await getEvent(db, dl.eventId) };
}

/**
 * Asks the running consumer to handle a dead-lettered event again (with fresh attempts). The
 * idempotency record still guards its effects, so a replay never applies them twice.
 */
export async function replayDeadLetter(db: Queryable, id: bigint | number | string): Promise<DeadLetter> {
  const r = await db.query<DeadLetterRow>(
    `UPDATE kontor_dead_letters SET status = 'replaying', updated_at = now() WHERE id = $1 AND status IN ('dead', 'replaying') RETURNING *`,
    [String(id)],
  );
  if (r.rows[0] === undefined) {
    const existing = await getDeadLetter(db, id);
    throw new ConflictError(
      `dead letter ${String(id)} was already replayed at ${existing.replayedAt?.toISOString() ?? '?'}`,
    );
  }
  await db.query(`SELECT pg_notify('${EVENTS_CHANNEL}', '${CONTROL_PAYLOAD}')`);
  return toDeadLetter(r.rows[0]);
}

export interface ReplayConsumerInput {
  consumer: string;
  /** Re-deliver events from this sequence (inclusive)… */
  fromSequence?: bigint | number | string;
  /** …or from the first event at or after this time. */
  fromTime?: Date;
}

/**
 * Asks the running consumer to re-deliver every event of its types from a sequence or a time.
 * Each re-delivery passes the idempotency check first, so only events whose effects are not
 * recorded (never handled, or dead-lettered) run again; the others are skipped.
 */
export async function requestConsumerReplay(
  db: Queryable,
  input: ReplayConsumerInput,
): Promise<{ consumer: string; fromSequence: bigint }> {
  let from: bigint;
  if (input.fromSequence !== undefined) from = BigInt(input.fromSequence);
  else if (input.fromTime !== undefined) {
    const r = await db.query<{ seq: bigint | null }>(
      'SELECT min(seq) AS seq FROM kontor_events WHERE time >= $1',
      [input.fromTime.toISOString()],
    );
    const seq = r.rows[0]?.seq;
    // Nothing at or after that time: the replay starts after the last event, i.e. is empty.
    from = seq === null || seq === undefined ? (await readLastSequence(db)) + 1n : BigInt(seq);
  } else {
    throw new ValidationError('a replay needs fromSequence or fromTime', [
      { path: 'from', message: 'required' },
    ]);
  }
  if (from < 1n) from = 1n;
  const r = await db.query(
    `UPDATE kontor_consumers SET replay_from_seq = $2, replay_requested_at = now(), updated_at = now() WHERE name = $1`,
    [input.consumer, String(from)],
  );
  if (r.rowCount === 0)
    throw new NotFoundError(`no consumer named "${input.consumer}" has ever run against this database`);
  await db.query(`SELECT pg_notify('${EVENTS_CHANNEL}', '${CONTROL_PAYLOAD}')`);
  return { consumer: input.consumer, fromSequence: from };
}

/** The sequence of the newest event (0 when the log is empty). */
export async function readLastSequence(db: Queryable): Promise<bigint> {
  const r = await db.query<{ seq: bigint | null }>('SELECT max(seq) AS seq FROM kontor_events');
  return BigInt(r.rows[0]?.seq ?? 0);
}

/** A consumer known to the database. */
export interface ConsumerStatus {
  name: string;
  /** Sequence of the last event settled in log order (embedded bus; NATS keeps its own position). */
  position: bigint;
  /** Events in the log after its position, of any type: an upper bound of its lag. */
  behind: bigint;
  replayFromSequence: bigint | null;
  updatedAt: Date;
}

/** Lists the consumers that have run against this database, with their positions. */
export async function listConsumers(db: Queryable): Promise<ConsumerStatus[]> {
  const r = await db.query<{
    name: string;
    position: bigint;
    behind: bigint;
    replay_from_seq: bigint | null;
    updated_at: Date;
  }>(
    `SELECT c.name, c.position, c.replay_from_seq, c.updated_at,
       (SELECT count(*) FROM kontor_events e WHERE (e.txid, e.seq) > (c.position_txid::text::xid8, c.position)) AS behind
     FROM kontor_consumers c ORDER BY c.name`,
  );
  return r.rows.map((c) => ({
    name: c.name,
    position: BigInt(c.position),
    behind: BigInt(c.behind),
    replayFromSequence: c.replay_from_seq === null ? null : BigInt(c.replay_from_seq),
    updatedAt: new Date(c.updated_at),
  }));
}

/**
 * Forgets a consumer that no longer runs: deletes its stored position, so retention stops keeping
 * the log for it (a stopped consumer's position holds every later event). Its idempotency records
 * stay (they go with the log later), so if a consumer of that name runs again it re-reads the log
 * from the start without repeating effects; its dead letters stay too, as the record of what
 * failed. The NATS relay's `$relay` row is not a consumer and cannot be retired.
 */
export async function retireConsumer(db: Queryable, name: string): Promise<void> {
  if (isReservedConsumerName(name))
    throw new ValidationError(`"${name}" is the bus's own position, not a consumer`, [
      { path: 'consumer', message: 'reserved' },
    ]);
  const r = await db.query('DELETE FROM kontor_consumers WHERE name = $1', [name]);
  if (r.rowCount === 0)
    throw new NotFoundError(`no consumer named "${name}" has ever run against this database`);
}

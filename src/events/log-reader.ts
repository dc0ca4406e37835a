/**
 * Reading the event log in log order `(txid, seq)`: stored positions (consumers' and the relay's),
 * the fetch of the events after a position below the log horizon, and where a replay starts.
 */
import { prepared, type Db, type Queryable } from '../store/index.ts';
import { EVENT_COLUMNS, LOG_HORIZON_SQL, type EventRow } from './outbox.ts';

/** A place in log order: every event with (txid, seq) up to here. */
export interface LogPosition {
  txid: bigint;
  seq: bigint;
}

/** True when `a` comes after `b` in log order. */
export const isAfter = (a: LogPosition, b: LogPosition): boolean =>
  a.txid > b.txid || (a.txid === b.txid && a.seq > b.seq);

/** The log position of an event row. */
export const positionOf = (row: EventRow): LogPosition => ({ txid: BigInt(row.txid), seq: BigInt(row.seq) });

// A consumer reads rows of its types after its cursor, below the log horizon, in log order.
const fetchSql = (range: string) =>
  `SELECT ${EVENT_COLUMNS} FROM kontor_events
   WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND txid < ${LOG_HORIZON_SQL} AND type = ANY($3::text[]) ${range}
   ORDER BY kontor_events.txid, kontor_events.seq LIMIT $4`;
const FETCH_SQL = prepared(fetchSql(''));
// The same within a range of sequence numbers (a replay).
const FETCH_RANGE_SQL = fetchSql('AND seq >= $5 AND seq <= $6');
// The relay reads every type.
const FETCH_ALL_TYPES_SQL = prepared(
  `SELECT ${EVENT_COLUMNS} FROM kontor_events
   WHERE (txid, seq) > ($1::text::xid8, $2::bigint) AND txid < ${LOG_HORIZON_SQL}
   ORDER BY kontor_events.txid, kontor_events.seq LIMIT $3`,
);
const UPDATE_POSITION_SQL = prepared(
  'UPDATE kontor_consumers SET position_txid = $2, position = $3, updated_at = now() WHERE name = $1',
);
const READ_POSITION_SQL = prepared('SELECT position_txid, position FROM kontor_consumers WHERE name = $1');

/**
 * Reads the next events after `after` in log order: of `types` (every type when undefined),
 * optionally within a range of sequence numbers. Only transactions older than the log horizon
 * qualify: their set of events can no longer grow behind the cursor.
 */
export async function fetchEventsAfter(
  db: Queryable,
  after: LogPosition,
  limit: number,
  types?: readonly string[],
  range?: { fromSeq: bigint; untilSeq: bigint },
): Promise<EventRow[]> {
  if (types === undefined) {
    const r = await db.query<EventRow>(FETCH_ALL_TYPES_SQL, [String(after.txid), String(after.seq), limit]);
    return r.rows;
  }
  const params: unknown[] = [String(after.txid), String(after.seq), [...types], limit];
  if (range !== undefined) params.push(String(range.fromSeq), String(range.untilSeq));
  const r = await db.query<EventRow>(range === undefined ? FETCH_SQL : FETCH_RANGE_SQL, params);
  return r.rows;
}

/** Reads the stored position of a consumer (or of the relay); undefined when it has no row. */
export async function readPosition(db: Queryable, name: string): Promise<LogPosition | undefined> {
  const r = await db.query<{ position_txid: bigint; position: bigint }>(READ_POSITION_SQL, [name]);
  const row = r.rows[0];
  return row === undefined ? undefined : { txid: BigInt(row.position_txid), seq: BigInt(row.position) };
}

/** Stores the position of a consumer (or of the relay). */
export async function writePosition(db: Queryable, name: string, at: LogPosition): Promise<void> {
  await db.query(UPDATE_POSITION_SQL, [name, String(at.txid), String(at.seq)]);
}

/** Creates the consumer's row on first start; returns its stored position. */
export async function ensureConsumerRow(db: Db, name: string): Promise<LogPosition> {
  await db.query('INSERT INTO kontor_consumers (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
  return (await readPosition(db, name))!;
}

/** Where a replay from `fromSeq` starts in log order; undefined when no event has that sequence or a later one. */
export async function findReplayStart(db: Db, fromSeq: bigint): Promise<LogPosition | undefined> {
  const r = await db.query<{ txid: bigint | null }>(
    'SELECT min(txid)::text::bigint AS txid FROM kontor_events WHERE seq >= $1',
    [String(fromSeq)],
  );
  const txid = r.rows[0]?.txid;
  return txid === null || txid === undefined ? undefined : { txid: BigInt(txid), seq: 0n };
}

/** Loads events by sequence number, in sequence order. */
export async function loadEvents(db: Db, seqs: bigint[]): Promise<EventRow[]> {
  if (seqs.length === 0) return [];
  const r = await db.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM kontor_events WHERE seq = ANY($1::bigint[]) ORDER BY seq`,
    [seqs.map(String)],
  );
  return r.rows;
}

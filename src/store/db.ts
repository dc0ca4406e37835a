/**
 * The one database interface every other folder uses: plain SQL with `$n` parameters, one
 * dialect (PostgreSQL) on both backends. int8 comes back as bigint, date as 'YYYY-MM-DD'.
 */

export interface QueryResult<R> {
  rows: R[];
  /** Rows returned, or rows affected by INSERT/UPDATE/DELETE. */
  rowCount: number;
}

/** Something that runs SQL: the database itself, or an open transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A transaction handle; it is only valid inside the callback of {@link Db.transaction}. */
export interface Tx extends Queryable {
  /**
   * Runs `fn` right after the transaction commits — never after a rollback (e.g. to wake a reader
   * of what it wrote). `fn` must be quick and not throw; an error it throws is ignored.
   */
  afterCommit(fn: () => void): void;
}

/** Runs the callbacks registered with {@link Tx.afterCommit}, once the COMMIT has succeeded. */
export function runAfterCommit(callbacks: readonly (() => void)[]): void {
  for (const fn of callbacks) {
    try {
      fn();
    } catch {
      // The transaction has committed; a failing callback cannot change that.
    }
  }
}

export type DbKind = 'pglite' | 'postgres';

/** An open database: the embedded PGlite or a PostgreSQL pool. */
export interface Db extends Queryable {
  readonly kind: DbKind;
  /** A printable description without credentials (for logs and `/readyz`). */
  readonly description: string;
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. Calling
   * `db.query` (instead of `tx.query`) inside `fn` is a bug and throws, so a statement can never
   * escape its transaction.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Subscribes to NOTIFY on `channel`; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Type parsers shared by both backends: int8 → bigint, date → ISO string (no time-zone shift). */
export const INT8_OID = 20;
export const DATE_OID = 1082;
export const parseInt8 = (v: string): bigint => BigInt(v);
export const parseDate = (v: string): string => v;

const preparedNames = new Map<string, string>();

/**
 * Marks a constant, hot SQL text to be prepared once per connection on PostgreSQL (a named
 * statement: parsed and planned once instead of at every call) and returns it unchanged. Only for
 * texts that never embed values — every distinct text stays prepared on every pooled connection.
 * PGlite runs it like any other statement.
 */
export function prepared(sql: string): string {
  if (!preparedNames.has(sql)) preparedNames.set(sql, `kontor_${preparedNames.size + 1}`);
  return sql;
}

/** The statement name of a text marked by {@link prepared}, else undefined. */
export function preparedName(sql: string): string | undefined {
  return preparedNames.get(sql);
}

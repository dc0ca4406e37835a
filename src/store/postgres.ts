/** The server backend: PostgreSQL through a `pg` pool. */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { AppError, ErrorCodes } from '../domain/index.ts';
import {
  DATE_OID,
  INT8_OID,
  parseDate,
  parseInt8,
  preparedName,
  runAfterCommit,
  type Db,
  type QueryResult,
  type Tx,
} from './db.ts';

export interface OpenPostgresOptions {
  url: string;
  /** Pool size; defaults to 10. */
  max?: number;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID) return parseInt8;
    if (oid === DATE_OID) return parseDate;
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** Removes the password from a connection URL for printing. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Connects to PostgreSQL and checks the connection with one query. */
export async function openPostgres(options: OpenPostgresOptions): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    types,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new AppError(
      ErrorCodes.DATABASE_UNREACHABLE,
      `cannot connect to PostgreSQL at ${redactUrl(options.url)}: ${(e as Error).message}`,
      { cause: e, retryable: true },
    );
  }
  return new PostgresDb(pool, redactUrl(options.url));
}

const inTransaction = new AsyncLocalStorage<object>();

/** A statement for `pg`: named (prepared per connection) when its text was marked by `prepared`. */
function statement(sql: string, params: readonly unknown[] | undefined): pg.QueryConfig {
  const name = preparedName(sql);
  return { text: sql, values: params as unknown[] | undefined, ...(name === undefined ? {} : { name }) };
}

/** A pool that cannot hand out a connection (server down, pool exhausted) is a retryable 503, not a 500. */
function unavailable(e: unknown): unknown {
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown }).code;
  if (
    /timeout exceeded when trying to connect|Connection terminated|ECONNREFUSED/.test(message) ||
    code === 'ECONNREFUSED' ||
    code === '57P01'
  ) {
    return new AppError(ErrorCodes.DATABASE_UNREACHABLE, `PostgreSQL is unavailable: ${message}`, {
      cause: e,
      retryable: true,
    });
  }
  return e;
}

class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  readonly description: string;
  readonly #pool: pg.Pool;
  readonly #owner = {};
  #closed = false;

  constructor(pool: pg.Pool, url: string) {
    this.#pool = pool;
    this.description = `PostgreSQL ${url}`;
  }

  async query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    if (inTransaction.getStore() === this.#owner) {
      throw new AppError(ErrorCodes.INTERNAL, 'db.query called inside db.transaction: use the tx handle');
    }
    try {
      const r = await this.#pool.query(statement(sql, params));
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    } catch (e) {
      throw unavailable(e);
    }
  }

  async exec(sql: string): Promise<void> {
    if (inTransaction.getStore() === this.#owner) {
      throw new AppError(ErrorCodes.INTERNAL, 'db.exec called inside db.transaction: use the tx handle');
    }
    await this.#pool.query(sql);
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect().catch((e: unknown) => {
      throw unavailable(e);
    });
    let open = true;
    const committed: (() => void)[] = [];
    const tx: Tx = {
      query: async <R>(sql: string, params?: readonly unknown[]) => {
        if (!open)
          throw new AppError(ErrorCodes.INTERNAL, 'transaction handle used after the transaction ended');
        const r = await client.query(statement(sql, params));
        return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
      },
      exec: async (sql: string) => {
        if (!open)
          throw new AppError(ErrorCodes.INTERNAL, 'transaction handle used after the transaction ended');
        await client.query(sql);
      },
      afterCommit: (fn) => {
        committed.push(fn);
      },
    };
    let broken = false;
    // A checked-out client has no pool listener: without this, PostgreSQL terminating the
    // connection mid-transaction (restart, pg_terminate_backend) is an uncaught 'error' that ends
    // the process. The pending query rejects anyway; the connection is discarded below.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await inTransaction.run(this.#owner, () => fn(tx));
      await client.query('COMMIT');
      runAfterCommit(committed);
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is gone; discard it below
      }
      throw e;
    } finally {
      open = false;
      client.off('error', onError);
      client.release(broken);
    }
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const quoted = `"${channel.replace(/"/g, '""')}"`;
    const handler = (msg: pg.Notification) => {
      if (msg.channel === channel) onNotify(msg.payload ?? '');
    };
    let stopped = false;
    let client: pg.PoolClient | undefined;
    let retry: NodeJS.Timeout | undefined;
    // A listening connection that PostgreSQL drops (restart, pg_terminate_backend) is replaced:
    // LISTEN again once the server answers, then one synthetic notification so the listener
    // re-reads whatever it missed meanwhile.
    const connect = async (): Promise<void> => {
      const c = await this.#pool.connect();
      const onError = () => {
        c.off('notification', handler);
        c.release(true);
        if (client === c) client = undefined;
        if (!stopped) retry = setTimeout(reconnect, 1000);
      };
      c.on('error', onError);
      c.on('notification', handler);
      try {
        await c.query(`LISTEN ${quoted}`);
      } catch (e) {
        c.off('error', onError);
        c.off('notification', handler);
        c.release(true);
        throw e;
      }
      client = c;
    };
    const reconnect = () => {
      retry = undefined;
      if (stopped) return;
      connect().then(
        () => onNotify(''),
        () => {
          if (!stopped) retry = setTimeout(reconnect, 1000);
        },
      );
    };
    await connect();
    return async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      if (c === undefined) return;
      c.off('notification', handler);
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      try {
        await c.query(`UNLISTEN ${quoted}`);
        c.release();
      } catch {
        c.release(true);
      }
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

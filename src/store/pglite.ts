/**
 * The embedded backend: PGlite (PostgreSQL compiled to WASM), persisted in a directory or in
 * memory. PGlite is ONE connection, so every statement goes through one mutex and a transaction
 * holds it from BEGIN to COMMIT: no caller's statement can land in another caller's transaction.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { AppError, ErrorCodes } from '../domain/index.ts';
import {
  DATE_OID,
  INT8_OID,
  parseDate,
  parseInt8,
  runAfterCommit,
  type Db,
  type QueryResult,
  type Tx,
} from './db.ts';
import { lockDataDir } from './lock.ts';
import { Mutex } from './mutex.ts';

export interface OpenPgliteOptions {
  /** Data directory; omitted = in memory (tests). */
  dataDir?: string;
  /** Start from a dump made by {@link dumpPglite} instead of an empty cluster (skips initdb: tests). */
  loadDataDir?: Blob;
}

const inTransaction = new AsyncLocalStorage<object>();

/** Dumps an embedded database (e.g. a migrated template for tests). */
export async function dumpPglite(db: Db): Promise<Blob> {
  if (!(db instanceof PgliteDb))
    throw new AppError(ErrorCodes.INTERNAL, 'only an embedded PGlite database can be dumped');
  return db.dump();
}

/** Opens PGlite, locking `dataDir` against other processes. */
export async function openPglite(options: OpenPgliteOptions = {}): Promise<Db> {
  let lock: { release(): void } | undefined;
  let dataPath: string | undefined;
  if (options.dataDir !== undefined) {
    mkdirSync(options.dataDir, { recursive: true });
    lock = lockDataDir(options.dataDir);
    dataPath = join(options.dataDir, 'pgdata');
  }
  let pg: PGlite;
  try {
    pg = new PGlite({
      ...(dataPath === undefined ? {} : { dataDir: dataPath }),
      ...(options.loadDataDir === undefined ? {} : { loadDataDir: options.loadDataDir }),
      parsers: { [INT8_OID]: parseInt8, [DATE_OID]: parseDate },
    });
    await pg.waitReady;
  } catch (e) {
    lock?.release();
    throw new AppError(
      ErrorCodes.DATABASE_UNREACHABLE,
      `could not open the embedded database at ${dataPath ?? 'memory'}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return new PgliteDb(pg, lock, dataPath);
}

class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  readonly description: string;
  readonly #pg: PGlite;
  readonly #lock: { release(): void } | undefined;
  readonly #mutex = new Mutex();
  readonly #owner = {};
  #closed = false;

  constructor(pg: PGlite, lock: { release(): void } | undefined, dataPath: string | undefined) {
    this.#pg = pg;
    this.#lock = lock;
    this.description = `embedded PGlite (${dataPath ?? 'in memory'})`;
  }

  async #raw<R>(sql: string, params: readonly unknown[] | undefined): Promise<QueryResult<R>> {
    const r = await this.#pg.query<R>(sql, params as unknown[] | undefined);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  #assertOutsideTransaction(): void {
    if (inTransaction.getStore() === this.#owner) {
      throw new AppError(ErrorCodes.INTERNAL, 'db.query called inside db.transaction: use the tx handle');
    }
  }

  async query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    this.#assertOutsideTransaction();
    return this.#mutex.run(() => this.#raw<R>(sql, params));
  }

  async exec(sql: string): Promise<void> {
    this.#assertOutsideTransaction();
    await this.#mutex.run(() => this.#pg.exec(sql));
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.#assertOutsideTransaction();
    return this.#mutex.run(async () => {
      let open = true;
      const committed: (() => void)[] = [];
      const tx: Tx = {
        query: async <R>(sql: string, params?: readonly unknown[]) => {
          if (!open)
            throw new AppError(ErrorCodes.INTERNAL, 'transaction handle used after the transaction ended');
          return this.#raw<R>(sql, params);
        },
        exec: async (sql: string) => {
          if (!open)
            throw new AppError(ErrorCodes.INTERNAL, 'transaction handle used after the transaction ended');
          await this.#pg.exec(sql);
        },
        afterCommit: (fn) => {
          committed.push(fn);
        },
      };
      await this.#pg.query('BEGIN');
      try {
        const result = await inTransaction.run(this.#owner, () => fn(tx));
        await this.#pg.query('COMMIT');
        runAfterCommit(committed);
        return result;
      } catch (e) {
        await this.#pg.query('ROLLBACK');
        throw e;
      } finally {
        open = false;
      }
    });
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const unsubscribe = await this.#mutex.run(() => this.#pg.listen(channel, onNotify));
    return () => this.#mutex.run(() => unsubscribe());
  }

  /** A tarball of the whole cluster, for {@link OpenPgliteOptions.loadDataDir}. */
  async dump(): Promise<Blob> {
    return this.#mutex.run(() => this.#pg.dumpDataDir('none'));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#mutex.run(() => this.#pg.close());
    } finally {
      this.#lock?.release();
    }
  }
}

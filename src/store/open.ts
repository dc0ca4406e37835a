/** Chooses the backend from the configuration: PostgreSQL for a postgres:// URL, else embedded PGlite. */
import { randomUUID } from 'node:crypto';
import { AppError, ErrorCodes } from '../domain/index.ts';
import type { Db } from './db.ts';
import { migrate, migrationStatus, type Migration } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres, redactUrl } from './postgres.ts';

export interface StoreOptions {
  /** `postgres://…` or `postgresql://…`; unset = embedded PGlite in `dataDir`. */
  databaseUrl?: string | undefined;
  /** Directory of the embedded database (default `./.kontor`); `:memory:` for none. */
  dataDir: string;
}

/** Validates a database URL; throws DATABASE_URL_INVALID with what is wrong. */
export function checkDatabaseUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError(
      ErrorCodes.DATABASE_URL_INVALID,
      `KONTOR_DATABASE_URL "${redactUrl(url)}" is not a URL; expected postgres://user@host:5432/database`,
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new AppError(
      ErrorCodes.DATABASE_URL_INVALID,
      `KONTOR_DATABASE_URL must start with postgres:// (got "${parsed.protocol}"); unset it to use the embedded database`,
    );
  }
}

/** Opens the configured database (without migrating it). */
export async function openDb(options: StoreOptions): Promise<Db> {
  if (options.databaseUrl !== undefined && options.databaseUrl !== '') {
    checkDatabaseUrl(options.databaseUrl);
    return openPostgres({ url: options.databaseUrl });
  }
  return openPglite(options.dataDir === ':memory:' ? {} : { dataDir: options.dataDir });
}

export interface InstanceInfo {
  instanceId: string;
  createdAt: Date;
  startedCount: bigint;
}

/** Records one start of the hub and returns the instance's identity (created on first start). */
export async function recordStart(db: Db): Promise<InstanceInfo> {
  return db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO kontor_instance (instance_id) VALUES ($1) ON CONFLICT (singleton) DO NOTHING`,
      [randomUUID()],
    );
    const r = await tx.query<{ instance_id: string; created_at: Date; started_count: bigint }>(
      `UPDATE kontor_instance SET started_count = started_count + 1, last_started_at = now()
       RETURNING instance_id, created_at, started_count`,
    );
    const row = r.rows[0]!;
    return { instanceId: row.instance_id, createdAt: row.created_at, startedCount: row.started_count };
  });
}

/** Opens the database and brings its schema up to date; returns it with what was applied. */
export async function openStore(options: StoreOptions): Promise<{ db: Db; applied: Migration[] }> {
  const db = await openDb(options);
  try {
    const applied = await migrate(db);
    return { db, applied };
  } catch (e) {
    await db.close();
    throw e;
  }
}

export { migrationStatus };

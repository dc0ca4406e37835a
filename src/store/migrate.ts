/**
 * Forward-only, numbered SQL migrations (`migrations/NNNN-name.sql`), applied in one transaction.
 * An applied migration is never edited (its checksum is checked), and a database that has
 * migrations this code does not know refuses to start.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError, ErrorCodes } from '../domain/index.ts';
import type { Db, Queryable } from './db.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationStatus {
  /** Highest version applied to the database (0 when none). */
  databaseVersion: number;
  /** Highest version this code ships. */
  codeVersion: number;
  pending: Migration[];
}

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const FILE = /^(\d{4})-([a-z0-9-]+)\.sql$/;
// Serialises migrators of several processes on one PostgreSQL (an arbitrary, fixed key).
const ADVISORY_LOCK_KEY = 7_204_011;

/** Reads the migrations this code ships, in order; rejects gaps and duplicate numbers. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE.exec(file);
      if (!m)
        throw new AppError(ErrorCodes.INTERNAL, `migration file name "${file}" is not NNNN-kebab-name.sql`);
      const sql = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        version: Number(m[1]),
        name: m[2]!,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new AppError(
        ErrorCodes.INTERNAL,
        `migrations must be numbered 0001, 0002… without gaps; found ${m.version} at position ${i + 1}`,
      );
    }
  });
  return migrations;
}

async function ensureTable(q: Queryable): Promise<void> {
  await q.query(`CREATE TABLE IF NOT EXISTS kontor_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
}

async function check(q: Queryable, migrations: Migration[]): Promise<MigrationStatus> {
  const applied = await q.query<{ version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM kontor_migrations ORDER BY version',
  );
  const codeVersion = migrations.at(-1)?.version ?? 0;
  const databaseVersion = applied.rows.at(-1)?.version ?? 0;
  if (databaseVersion > codeVersion) {
    throw new AppError(
      ErrorCodes.DATABASE_NEWER_THAN_CODE,
      `the database is at schema version ${databaseVersion} but this Kontor only knows up to ${codeVersion}: it was migrated by a newer release. Run that release (or newer); migrations are forward-only`,
      { details: { databaseVersion, codeVersion } },
    );
  }
  for (const row of applied.rows) {
    const m = migrations[row.version - 1];
    if (m && m.checksum !== row.checksum) {
      throw new AppError(
        ErrorCodes.MIGRATION_CHECKSUM_MISMATCH,
        `migration ${String(row.version).padStart(4, '0')}-${row.name} was changed after it was applied; applied migrations must never be edited (add a new one)`,
      );
    }
  }
  return { databaseVersion, codeVersion, pending: migrations.filter((m) => m.version > databaseVersion) };
}

/** Reports where the database stands without changing it; throws when it is newer than the code. */
export async function migrationStatus(db: Db, migrations = loadMigrations()): Promise<MigrationStatus> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('kontor_migrations')::text AS t`);
  if (exists.rows[0]?.t == null) {
    return { databaseVersion: 0, codeVersion: migrations.at(-1)?.version ?? 0, pending: migrations };
  }
  return check(db, migrations);
}

/** Applies every pending migration in one transaction (all or nothing); returns what was applied. */
export async function migrate(db: Db, migrations = loadMigrations()): Promise<Migration[]> {
  return db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK_KEY]);
    await ensureTable(tx);
    const { pending } = await check(tx, migrations);
    for (const m of pending) {
      // One transaction for all pending steps keeps "all or nothing" simple: a failing
      // migration leaves the schema exactly as it was.
      await tx.exec(m.sql);
      await tx.query('INSERT INTO kontor_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
    }
    return pending;
  });
}

/**
 * Test databases on both backends: an in-memory PGlite, and a fresh PostgreSQL database per call
 * (created from KONTOR_TEST_PG_URL, default the machine's local server, and dropped afterwards).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  dumpPglite,
  loadMigrations,
  migrate,
  openPglite,
  openPostgres,
  type Db,
} from '../../src/store/index.ts';

export type Backend = 'pglite' | 'postgres';

/** Both backends, unless KONTOR_TEST_BACKENDS narrows them (e.g. "pglite"). */
export const backends: Backend[] = (process.env.KONTOR_TEST_BACKENDS ?? 'pglite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is Backend => s === 'pglite' || s === 'postgres');

export const adminUrl = process.env.KONTOR_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDb {
  db: Db;
  /** The connection URL (PostgreSQL only), for child processes. */
  url: string | undefined;
  /** Closes and drops the database. */
  drop(): Promise<void>;
}

/** Creates an empty PostgreSQL database and returns its URL and a function that drops it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kontor_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

let template: Promise<Blob> | undefined;

/**
 * A migrated PGlite cluster as a tarball, shared by every test process through a file keyed by
 * the migrations: loading it takes about a second, against 3–5 s for initdb plus migrations.
 */
function migratedPgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const key = createHash('sha256')
      .update(
        loadMigrations()
          .map((m) => m.checksum)
          .join(','),
      )
      .digest('hex')
      .slice(0, 16);
    const file = join(tmpdir(), `kontor-pglite-template-${key}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const db = await openPglite();
    try {
      await migrate(db);
      const blob = await dumpPglite(db);
      const partial = `${file}.${process.pid}.part`;
      writeFileSync(partial, Buffer.from(await blob.arrayBuffer()));
      renameSync(partial, file); // atomic: concurrent test processes never read half a file
      return blob;
    } finally {
      await db.close();
    }
  })();
  return template;
}

/** Opens a fresh database of the given backend, migrated unless `migrated` is false. */
export async function createTestDb(backend: Backend, options: { migrated?: boolean } = {}): Promise<TestDb> {
  let db: Db;
  let url: string | undefined;
  let dropDatabase = async () => {};
  if (backend === 'pglite') {
    db =
      options.migrated === false
        ? await openPglite()
        : await openPglite({ loadDataDir: await migratedPgliteTemplate() });
  } else {
    const created = await createPostgresDatabase();
    url = created.url;
    dropDatabase = created.drop;
    db = await openPostgres({ url });
  }
  if (options.migrated !== false) await migrate(db);
  return {
    db,
    url,
    async drop() {
      await db.close();
      await dropDatabase();
    },
  };
}

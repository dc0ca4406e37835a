/**
 * Database access: one SQL dialect on embedded PGlite or PostgreSQL, numbered forward-only
 * migrations, and the data-directory lock.
 */
export type { Db, Queryable, QueryResult, Tx, DbKind } from './db.ts';
export { prepared } from './db.ts';
export {
  openDb,
  openStore,
  checkDatabaseUrl,
  recordStart,
  type StoreOptions,
  type InstanceInfo,
} from './open.ts';
export { migrate, migrationStatus, loadMigrations, type Migration, type MigrationStatus } from './migrate.ts';
export { openPglite, dumpPglite } from './pglite.ts';
export { openPostgres, redactUrl } from './postgres.ts';
export { Mutex } from './mutex.ts';

// The store on both backends: migrations, transactions, isolation, type mapping.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  loadMigrations,
  migrate,
  migrationStatus,
  prepared,
  recordStart,
  type Migration,
} from '../src/store/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';

function extraMigration(version: number, sql: string): Migration {
  return { version, name: `test-${version}`, sql, checksum: `test-${version}-${sql.length}` };
}

for (const backend of backends) {
  describe(`store on ${backend}`, () => {
    let t: TestDb;
    before(async () => {
      t = await createTestDb(backend, { migrated: false });
    });
    after(async () => {
      await t.drop();
    });

    it('applies every migration once and reports itself current', async () => {
      const first = await migrate(t.db);
      assert.deepEqual(
        first.map((m) => m.version),
        loadMigrations().map((m) => m.version),
      );
      const again = await migrate(t.db);
      assert.equal(again.length, 0);
      const status = await migrationStatus(t.db);
      assert.equal(status.pending.length, 0);
      assert.equal(status.databaseVersion, status.codeVersion);
    });

    it('refuses a database that is newer than the code', async () => {
      const shipped = loadMigrations();
      const future = [...shipped, extraMigration(shipped.length + 1, 'CREATE TABLE future_thing (id int)')];
      await migrate(t.db, future);
      await assert.rejects(migrationStatus(t.db, shipped), { code: 'DATABASE_NEWER_THAN_CODE' });
      await assert.rejects(migrate(t.db, shipped), /migrated by a newer release/);
    });

    it('refuses an applied migration whose text changed', async () => {
      const t2 = await createTestDb(backend);
      try {
        const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'edited' } : m));
        await assert.rejects(migrationStatus(t2.db, edited), { code: 'MIGRATION_CHECKSUM_MISMATCH' });
      } finally {
        await t2.drop();
      }
    });

    it('runs afterCommit callbacks once the transaction committed, never after a rollback', async () => {
      const seen: string[] = [];
      await t.db.transaction(async (tx) => {
        tx.afterCommit(() => seen.push('first'));
        tx.afterCommit(() => {
          throw new Error('a failing callback is ignored');
        });
        tx.afterCommit(() => seen.push('second'));
        await tx.query('SELECT 1');
        assert.deepEqual(seen, [], 'not before the commit');
      });
      assert.deepEqual(seen, ['first', 'second']);
      await assert.rejects(
        t.db.transaction(async (tx) => {
          tx.afterCommit(() => seen.push('rolled back'));
          throw new Error('boom');
        }),
        /boom/,
      );
      // A COMMIT that fails (a deferred constraint) is a rollback too.
      await t.db.exec(
        'CREATE TABLE IF NOT EXISTS ac_probe (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED)',
      );
      await assert.rejects(
        t.db.transaction(async (tx) => {
          tx.afterCommit(() => seen.push('failed commit'));
          await tx.query('INSERT INTO ac_probe VALUES (1), (1)');
        }),
      );
      assert.deepEqual(seen, ['first', 'second']);
    });

    it('runs a prepared statement (named on PostgreSQL) in and out of transactions, and after its table is recreated', async () => {
      const t2 = await createTestDb(backend, { migrated: false });
      try {
        await t2.db.exec('CREATE TABLE prep_probe (id int NOT NULL, label text NOT NULL)');
        const insert = prepared('INSERT INTO prep_probe (id, label) VALUES ($1, $2) RETURNING id');
        // More calls at once than pooled connections, so several connections prepare it.
        await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            i % 2 === 0
              ? t2.db.query(insert, [i, `n${i}`])
              : t2.db.transaction((tx) => tx.query(insert, [i, `n${i}`])),
          ),
        );
        const count = await t2.db.query<{ n: bigint }>('SELECT count(*) AS n FROM prep_probe');
        assert.equal(count.rows[0]!.n, 30n);
        if (backend === 'postgres') {
          const names = await t2.db.transaction(async (tx) => {
            await tx.query(insert, [100, 'seen']);
            return tx.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
          });
          assert.ok(
            names.rows.some((r) => r.statement.includes('INSERT INTO prep_probe')),
            'the statement is prepared on the connection',
          );
        }
        // PostgreSQL re-plans a prepared statement whose table was dropped and created again.
        await t2.db.exec(
          'DROP TABLE prep_probe; CREATE TABLE prep_probe (id int NOT NULL, label text NOT NULL)',
        );
        const again = await t2.db.query<{ id: number }>(insert, [7, 'again']);
        assert.deepEqual(again.rows, [{ id: 7 }]);
      } finally {
        await t2.drop();
      }
    });

    it('rolls back a failed migration set entirely', async () => {
      const t2 = await createTestDb(backend, { migrated: false });
      try {
        const shipped = loadMigrations();
        const broken = [
          ...shipped,
          extraMigration(shipped.length + 1, 'CREATE TABLE half_done (id int); SELECT no_such_function();'),
        ];
        await assert.rejects(migrate(t2.db, broken));
        const status = await migrationStatus(t2.db, shipped);
        assert.equal(status.databaseVersion, 0, 'nothing was applied');
        const exists = await t2.db.query<{ t: string | null }>(`SELECT to_regclass('half_done')::text AS t`);
        assert.equal(exists.rows[0]?.t, null);
      } finally {
        await t2.drop();
      }
    });

    it('maps int8 to bigint and date to an ISO string, and takes bigint parameters', async () => {
      const r = await t.db.query<{ a: bigint; d: string }>(`SELECT $1::int8 AS a, DATE '2026-02-28' AS d`, [
        9007199254740993n,
      ]);
      assert.equal(r.rows[0]?.a, 9007199254740993n);
      assert.equal(r.rows[0]?.d, '2026-02-28');
    });

    it('commits on success and rolls back on error', async () => {
      await t.db.exec('CREATE TABLE tx_probe (id int PRIMARY KEY)');
      await t.db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (1)');
      });
      await assert.rejects(
        t.db.transaction(async (tx) => {
          await tx.query('INSERT INTO tx_probe VALUES (2)');
          throw new Error('boom');
        }),
        /boom/,
      );
      const r = await t.db.query<{ id: number }>('SELECT id FROM tx_probe ORDER BY id');
      assert.deepEqual(
        r.rows.map((x) => x.id),
        [1],
      );
    });

    it('never lets a concurrent caller leak into another transaction', async () => {
      await t.db.exec('CREATE TABLE leak_probe (id int PRIMARY KEY, who text)');
      // A transaction that will roll back, and while it is open, plain queries from other callers.
      const rolledBack = t.db
        .transaction(async (tx) => {
          await tx.query(`INSERT INTO leak_probe VALUES (1, 'tx')`);
          await new Promise((r) => setTimeout(r, 50));
          throw new Error('rollback on purpose');
        })
        .catch(() => 'rolled back');
      const outsiders = Promise.all(
        [2, 3, 4].map((id) => t.db.query(`INSERT INTO leak_probe VALUES ($1, 'outside')`, [id])),
      );
      await Promise.all([rolledBack, outsiders]);
      const r = await t.db.query<{ id: number }>('SELECT id FROM leak_probe ORDER BY id');
      assert.deepEqual(
        r.rows.map((x) => x.id),
        [2, 3, 4],
        'the outsiders committed, the rolled-back row is gone',
      );
    });

    it('rejects db.query inside a transaction callback', async () => {
      await assert.rejects(
        t.db.transaction(async () => {
          await t.db.query('SELECT 1');
        }),
        /use the tx handle/,
      );
    });

    it('delivers NOTIFY to listeners after commit only', async () => {
      const got: string[] = [];
      const unlisten = await t.db.listen('kontor_probe', (p) => got.push(p));
      await assert.rejects(
        t.db.transaction(async (tx) => {
          await tx.query(`SELECT pg_notify('kontor_probe', 'lost')`);
          throw new Error('abort');
        }),
      );
      await t.db.transaction(async (tx) => {
        await tx.query(`SELECT pg_notify('kontor_probe', 'kept')`);
      });
      for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      await unlisten();
      assert.deepEqual(got, ['kept']);
    });

    it('records starts on one instance identity', async () => {
      const a = await recordStart(t.db);
      const b = await recordStart(t.db);
      assert.equal(a.instanceId, b.instanceId);
      assert.equal(b.startedCount, a.startedCount + 1n);
    });
  });
}

describe('migration files', () => {
  it('rejects gaps in numbering', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kontor-mig-'));
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '0001-a.sql'), 'SELECT 1;');
      writeFileSync(join(dir, '0003-c.sql'), 'SELECT 1;');
      assert.throws(() => loadMigrations(dir), /without gaps/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

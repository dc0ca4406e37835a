// PostgreSQL dropping a connection that Kontor holds (a restart, a failover, pg_terminate_backend)
// must not end the process: a transaction on it fails with an error and the next one works, and a
// LISTEN connection is replaced so notifications keep arriving.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createTestDb, type TestDb } from './support/db.ts';

describe('PostgreSQL store when the server drops a connection', () => {
  let t: TestDb;
  // Unhandled 'error' events of pg clients surface here; in a real process they would end it.
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  before(async () => {
    t = await createTestDb('postgres');
    process.on('uncaughtException', onUncaught);
  });
  after(async () => {
    process.off('uncaughtException', onUncaught);
    await t?.drop();
  });

  /** Terminates a backend from a connection of its own (outside the store and its transaction context). */
  async function terminate(pid: number): Promise<void> {
    const admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
  }

  it('a transaction whose connection is terminated rejects; the process and the next transaction live on', async () => {
    await assert.rejects(
      t.db.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const pid = rows[0]!.pid;
        setTimeout(() => void terminate(pid), 100);
        await tx.query('SELECT pg_sleep(5)');
      }),
    );
    const { rows } = await t.db.transaction((tx) => tx.query<{ one: number }>('SELECT 1 AS one'));
    assert.equal(rows[0]!.one, 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(uncaught.map(String), []);
  });

  it('a terminated LISTEN connection is replaced and notifications arrive again', async () => {
    const channel = `kontor_test_${process.pid}`;
    const got: string[] = [];
    const unlisten = await t.db.listen(channel, (p) => got.push(p));
    try {
      const { rows } = await t.db.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE query LIKE $1 AND datname = current_database()',
        [`LISTEN "${channel}"%`],
      );
      assert.equal(rows.length, 1, 'one listening connection');
      await terminate(rows[0]!.pid);
      for (let i = 0; i < 60 && !got.includes(''); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(got.includes(''), 'a wake-up after reconnecting, so missed work is re-read');
      await t.db.query(`SELECT pg_notify($1, 'after')`, [channel]);
      for (let i = 0; i < 50 && !got.includes('after'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(got.includes('after'), JSON.stringify(got));
      assert.deepEqual(uncaught.map(String), []);
    } finally {
      await unlisten();
    }
  });
});

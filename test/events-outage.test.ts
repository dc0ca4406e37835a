// A database outage while a handler runs is not the handler's failure: the consumer waits for the
// database without using up attempts and never dead-letters for it. A handler's own failure with a
// socket error (an HTTP call) while the database answers still counts as an attempt.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppError, ErrorCodes } from '../src/domain/index.ts';
import { listDeadLetters, publish, type EventBus } from '../src/events/index.ts';
import { classifyOutage } from '../src/events/consumer.ts';
import type { Db, Tx } from '../src/store/index.ts';
import { backends, createTestDb, type TestDb } from './support/db.ts';
import {
  buses,
  countRows,
  createTestCatalog,
  metricValue,
  startTestBus,
  TEST_TYPE,
  waitFor,
} from './support/events.ts';

const catalog = createTestCatalog();

/** `db` whose transactions fail as an unreachable PostgreSQL pool does, until `outage.until`. */
function withOutage(db: Db, outage: { until: number }): Db {
  return {
    kind: db.kind,
    description: db.description,
    query: <R>(sql: string, params?: readonly unknown[]) => db.query<R>(sql, params),
    exec: (sql: string) => db.exec(sql),
    listen: (channel: string, fn: (payload: string) => void) => db.listen(channel, fn),
    close: () => db.close(),
    transaction: async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
      if (Date.now() < outage.until) {
        throw new AppError(
          ErrorCodes.DATABASE_UNREACHABLE,
          'PostgreSQL is unavailable: connect ECONNREFUSED',
          {
            retryable: true,
          },
        );
      }
      return db.transaction(fn);
    },
  };
}

describe('classifyOutage', () => {
  it('tells database outages from handler failures', () => {
    const sqlstate = (code: string) => Object.assign(new Error('server said no'), { code });
    assert.equal(classifyOutage(sqlstate('57P01')), 'yes');
    assert.equal(classifyOutage(sqlstate('08006')), 'yes');
    assert.equal(classifyOutage(sqlstate('53300')), 'yes');
    assert.equal(classifyOutage(new Error('Connection terminated unexpectedly')), 'yes');
    assert.equal(classifyOutage(new AppError(ErrorCodes.DATABASE_UNREACHABLE, 'down')), 'yes');
    assert.equal(
      classifyOutage(
        new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
      ),
      'maybe',
    );
    assert.equal(classifyOutage(sqlstate('23505')), 'no');
    assert.equal(classifyOutage(new Error('Odoo said 500')), 'no');
  });
});

for (const backend of backends) {
  for (const kind of buses) {
    describe(`database outage during a handler: ${kind} on ${backend}`, () => {
      let t: TestDb;
      let bus: EventBus;
      let dispose: () => Promise<void>;
      const outage = { until: 0 };
      const reported: unknown[] = [];

      before(async () => {
        t = await createTestDb(backend);
        await t.db.exec('CREATE TABLE effects (event_id text PRIMARY KEY, attempt integer NOT NULL)');
        ({ bus, dispose } = await startTestBus(withOutage(t.db, outage), kind, {
          onError: (e) => reported.push(e),
        }));
      });
      after(async () => {
        await dispose();
        await t.drop();
      });

      it('waits out the outage without using attempts, then applies the effect once', async () => {
        let calls = 0;
        const h = await bus.startConsumer({
          name: 'outage',
          types: [TEST_TYPE],
          maxAttempts: 2,
          backoff: { baseMs: 10, maxMs: 20 },
          handle: async (e, { tx, attempt }) => {
            if (++calls === 1) {
              // The database goes away while the handler runs, for longer than all attempts take.
              outage.until = Date.now() + 1_500;
              throw new AppError(
                ErrorCodes.DATABASE_UNREACHABLE,
                'PostgreSQL is unavailable: Connection terminated',
              );
            }
            await tx.query('INSERT INTO effects (event_id, attempt) VALUES ($1, $2)', [e.id, attempt]);
          },
        });
        const retries = (reason: string) =>
          metricValue('kontor_event_retries_total', { consumer: 'outage', reason });
        const [handlerBefore, databaseBefore] = [await retries('handler'), await retries('database')];
        await t.db.transaction((tx) =>
          publish(tx, { type: TEST_TYPE, id: 'o-1', data: { n: 1 } }, { catalog }),
        );
        await waitFor(
          async () => (await countRows(t.db, 'effects', `event_id = 'o-1'`)) === 1,
          15_000,
          'the effect',
        );
        assert.ok(Date.now() >= outage.until, 'the effect came after the outage');
        const r = await t.db.query<{ attempt: number }>(`SELECT attempt FROM effects WHERE event_id = 'o-1'`);
        assert.equal(r.rows[0]!.attempt, 1, 'the outage used no attempt');
        assert.equal(await retries('handler'), handlerBefore, 'no handler retry counted');
        assert.ok((await retries('database')) > databaseBefore, 'the outage retries counted as database');
        assert.equal((await listDeadLetters(t.db, { consumer: 'outage' })).length, 0);
        assert.ok(reported.length > 0, 'the outage was reported through onError');
        await h.stop();
      });

      it('still counts a socket error of the handler (database up) as a failed attempt', async () => {
        const h = await bus.startConsumer({
          name: 'http-down',
          types: [TEST_TYPE],
          maxAttempts: 2,
          backoff: { baseMs: 10, maxMs: 20 },
          handle: async () => {
            throw new Error('fetch failed', {
              cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8069'), {
                code: 'ECONNREFUSED',
              }),
            });
          },
        });
        await waitFor(
          async () => (await listDeadLetters(t.db, { consumer: 'http-down' })).length === 1,
          15_000,
          'a dead letter',
        );
        const [dl] = await listDeadLetters(t.db, { consumer: 'http-down' });
        assert.equal(dl!.attempts, 2);
        await h.stop();
      });

      it('retries errors the server sends when it shuts down (SQLSTATE 57P01) without using attempts', async () => {
        let kills = 0;
        const h = await bus.startConsumer({
          name: 'terminated',
          types: [TEST_TYPE],
          maxAttempts: 2,
          backoff: { baseMs: 10, maxMs: 20 },
          handle: async (e, { tx, attempt }) => {
            await tx.query('INSERT INTO effects (event_id, attempt) VALUES ($1, $2)', [`t-${e.id}`, attempt]);
            if (kills < 4) {
              kills++;
              // What node-postgres rejects a query with when the server terminates the connection.
              throw Object.assign(new Error('terminating connection due to administrator command'), {
                code: '57P01',
                severity: 'FATAL',
              });
            }
          },
        });
        await t.db.transaction((tx) =>
          publish(tx, { type: TEST_TYPE, id: 'o-2', data: { n: 2 } }, { catalog }),
        );
        await waitFor(
          async () => (await countRows(t.db, 'effects', `event_id LIKE 't-%'`)) === 2,
          15_000,
          'both effects',
        );
        assert.equal(kills, 4);
        assert.equal((await listDeadLetters(t.db, { consumer: 'terminated' })).length, 0);
        const r = await t.db.query<{ n: bigint }>(
          `SELECT count(*) AS n FROM effects WHERE event_id LIKE 't-%' AND attempt = 1`,
        );
        assert.equal(Number(r.rows[0]!.n), 2, 'both effects on attempt 1');
        await h.stop();
      });
    });
  }
}

// The operator's view of consumers: `kontor events consumers` lists positions and how far each is
// behind; `kontor events retire` forgets one that no longer runs, so retention stops keeping the
// log for it, while its idempotency records stay (a consumer of that name running again repeats
// no effect).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishMany, pruneEventLog, startEventBus } from '../src/events/index.ts';
import { migrate, openPglite } from '../src/store/index.ts';
import { createTestCatalog, TEST_TYPE, waitFor } from './support/events.ts';
import { runKontor } from './support/process.ts';

const DAY = 24 * 60 * 60 * 1000;

describe('kontor events consumers and kontor events retire', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-consumers-cli-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const env = () => ({
    KONTOR_DATA_DIR: join(dir, 'data'),
    KONTOR_CONFIG: undefined,
    KONTOR_DATABASE_URL: undefined,
  });

  it('lists consumers with their lag, retires a stopped one, and retention then prunes past it', async () => {
    const catalog = createTestCatalog();
    const db = await openPglite({ dataDir: join(dir, 'data') });
    try {
      await migrate(db);
      const bus = await startEventBus(db, { retention: false });
      let handled = 0;
      const h = await bus.startConsumer({
        name: 'ledger',
        types: [TEST_TYPE],
        handle: async () => void handled++,
      });
      await db.transaction((tx) =>
        publishMany(
          tx,
          [1, 2].map((n) => ({ type: TEST_TYPE, id: `c-${n}`, data: { n } })),
          { catalog },
        ),
      );
      await waitFor(() => handled === 2, 10_000, 'two handled');
      await h.stop();
      // 'stale' ran once long ago and never again: it sits at the start of the log.
      await db.query(`INSERT INTO kontor_consumers (name) VALUES ('stale')`);
      await bus.close();
      await db.query(
        `UPDATE kontor_events SET time = now() - interval '40 days', recorded_at = now() - interval '40 days'`,
      );
      assert.equal(
        await pruneEventLog(db, { bus: 'embedded', maxAgeMs: 30 * DAY }),
        0,
        'stale holds the log',
      );
    } finally {
      await db.close();
    }

    const listed = await runKontor(['events', 'consumers'], env(), dir);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ledger\tposition \d+\t0 event\(s\) after it/m);
    assert.match(listed.stdout, /^stale\tposition 0\t2 event\(s\) after it/m);
    const asJson = await runKontor(['events', 'consumers', '--json'], env(), dir);
    assert.deepEqual(
      (JSON.parse(asJson.stdout) as { name: string; behind: string }[]).map((c) => [c.name, c.behind]),
      [
        ['ledger', '0'],
        ['stale', '2'],
      ],
    );

    const unknown = await runKontor(['events', 'retire', '--consumer', 'nobody'], env(), dir);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no consumer named "nobody"/);
    const reserved = await runKontor(['events', 'retire', '--consumer', '$relay'], env(), dir);
    assert.notEqual(reserved.code, 0);
    assert.match(reserved.stderr, /not a consumer/);

    const retired = await runKontor(['events', 'retire', '--consumer', 'stale'], env(), dir);
    assert.equal(retired.code, 0, retired.stderr);
    assert.match(retired.stdout, /consumer stale retired/);
    const after = await runKontor(['events', 'consumers'], env(), dir);
    assert.doesNotMatch(after.stdout, /^stale/m);

    const again = await openPglite({ dataDir: join(dir, 'data') });
    try {
      assert.equal(
        await pruneEventLog(again, { bus: 'embedded', maxAgeMs: 30 * DAY }),
        2,
        'nothing holds the log now',
      );
      const records = await again.query<{ n: bigint }>(
        `SELECT count(*) AS n FROM kontor_consumer_done WHERE consumer = 'ledger'`,
      );
      assert.equal(records.rows[0]!.n, 2n, 'the idempotency records stay');
    } finally {
      await again.close();
    }
  });
});

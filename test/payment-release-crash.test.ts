// Release exactly once under real crashes: a child process runs the real release against
// PostgreSQL and is killed with SIGKILL at random moments (before, inside and after the window
// between the file landing in the bank folder and the commit). A fresh process then retries:
// exactly one file with the expected bytes, the order released once, one released event and one
// audit record.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { getPaymentOrder, renderPaymentFile } from '../src/flows/payment-run/index.ts';
import { createTestDb, type TestDb } from './support/db.ts';
import { approvedOrder, releaseDeps, runBills } from './support/payment-release-child.ts';

const CHILD = fileURLToPath(new URL('./support/payment-release-child.ts', import.meta.url));
const WINDOW_MS = 400;

interface Child {
  out(): string;
  kill(): void;
  exited: Promise<number | string>;
  /** Resolves when the child printed `marker`, or with false when it exited first. */
  printed(marker: string): Promise<boolean>;
}

function spawnRelease(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, RELEASE_CHILD: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    out: () => `${out}\n${err}`,
    kill: () => child.kill('SIGKILL'),
    exited,
    async printed(marker) {
      for (;;) {
        if (out.includes(marker)) return true;
        const done = await Promise.race([
          exited.then(() => 'exit' as const),
          new Promise<'data'>((r) => waiters.push(() => r('data'))),
        ]);
        if (done === 'exit') return out.includes(marker);
      }
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where each run kills the releasing process. */
type KillMoment =
  { kind: 'after-start'; ms: number } | { kind: 'in-window'; ms: number } | { kind: 'after-commit' };

const random = (max: number) => Math.floor(Math.random() * max);
const moments: KillMoment[] = [
  { kind: 'after-start', ms: 300 + random(1500) },
  { kind: 'after-start', ms: 800 + random(1500) },
  { kind: 'in-window', ms: 0 },
  { kind: 'in-window', ms: random(WINDOW_MS) },
  { kind: 'in-window', ms: random(WINDOW_MS) },
  { kind: 'in-window', ms: random(WINDOW_MS) },
  { kind: 'after-commit' },
];

describe('payment release under SIGKILL (postgres)', { timeout: 240_000 }, () => {
  let t: TestDb;
  let dir: string;
  before(async () => {
    t = await createTestDb('postgres');
    dir = mkdtempSync(join(tmpdir(), 'kontor-release-crash-'));
  });
  after(async () => {
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function count(sql: string, id: string): Promise<number> {
    const r = await t.db.query<{ n: string }>(sql, [id]);
    return Number(r.rows[0]!.n);
  }

  moments.forEach((moment, run) => {
    it(`run ${run + 1}: killed ${moment.kind}${'ms' in moment ? ` +${moment.ms} ms` : ''}; a fresh process finishes the release once`, async () => {
      const outbox = join(dir, `outbox-${run}`);
      const deps = releaseDeps(t.db, outbox, { bills: runBills(`R${run}`), ids: `CR${run}` });
      const orderId = await approvedOrder(deps);
      const expected = await renderPaymentFile(deps, orderId);
      const env = { RELEASE_DB: t.url!, RELEASE_OUTBOX: outbox, RELEASE_ORDER: orderId };

      const victim = spawnRelease({ ...env, RELEASE_DELAY_MS: String(WINDOW_MS) });
      if (moment.kind === 'after-start') await sleep(moment.ms);
      else if (moment.kind === 'in-window') {
        assert.ok(await victim.printed('WRITTEN'), victim.out());
        await sleep(moment.ms);
      } else assert.ok(await victim.printed('RELEASED'), victim.out());
      victim.kill();
      const code = await victim.exited;
      const committedBefore = (await getPaymentOrder(deps, orderId)).state === 'released';
      if (moment.kind === 'in-window') {
        assert.equal(code, 'SIGKILL', victim.out());
        assert.equal(committedBefore, false, 'killed inside the window: nothing was committed');
        assert.ok(existsSync(join(outbox, `${orderId}.xml`)), 'the file landed before the kill');
      }
      const fileBefore = existsSync(join(outbox, `${orderId}.xml`));

      const retry = spawnRelease(env);
      assert.equal(await retry.exited, 0, retry.out());
      const line = /RELEASED (.*)/.exec(retry.out())?.[1];
      const result = JSON.parse(line!) as { alreadyReleased: boolean; recovered: boolean; sha256: string };
      if (committedBefore) assert.equal(result.alreadyReleased, true);
      else if (fileBefore)
        assert.equal(result.recovered, true, 'the retry adopts the file, it does not rewrite it');

      const visible = readdirSync(outbox).filter((f) => !f.startsWith('.'));
      assert.deepEqual(visible, [`${orderId}.xml`], 'exactly one file at the bank channel');
      const content = readFileSync(join(outbox, `${orderId}.xml`), 'utf8');
      assert.equal(content, expected, 'the file carries the expected bytes');
      const sha = createHash('sha256').update(content, 'utf8').digest('hex');
      const order = await getPaymentOrder(deps, orderId);
      assert.equal(order.state, 'released');
      assert.equal(order.fileSha256, sha);
      assert.equal(result.sha256, sha);
      assert.equal(
        await count(
          `SELECT count(*)::text AS n FROM kontor_events WHERE subject = $1 AND type = 'kontor.payment.order.released.v1'`,
          orderId,
        ),
        1,
        'one released event',
      );
      assert.equal(
        await count(
          `SELECT count(*)::text AS n FROM kontor_audit WHERE resource_id = $1 AND action = 'payment-order.released'`,
          orderId,
        ),
        1,
        'one audit record',
      );
    });
  });
});

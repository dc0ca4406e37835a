/**
 * Crash-safety runs shared by test/events-crash.test.ts and scripts/crash-soak.ts: a child
 * process publishing and consuming is killed with SIGKILL at random moments, restarted on the
 * same database, and finally run to completion; then every event must have exactly one effect.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPglite, openPostgres, type Db } from '../../src/store/index.ts';
import { createPostgresDatabase } from './db.ts';
import { deleteTestStream, natsUrl } from './events.ts';

const CHILD = fileURLToPath(new URL('./events-crash-child.ts', import.meta.url));

export type CrashScenario = 'embedded-pglite' | 'embedded-postgres' | 'nats-postgres';

export interface CrashResult {
  scenario: CrashScenario;
  kills: number;
  /** Kills that landed after the child reported ready (i.e. while it worked). */
  killsWhileWorking: number;
  events: number;
  effects: number;
  /** Events whose effect count is not exactly one. */
  wrong: number;
  deadLetters: number;
}

function runChild(
  env: Record<string, string>,
  killAfterMs: number | undefined,
  timeoutMs: number,
): Promise<{ ready: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ready = false;
    let stderr = '';
    const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (!ready && chunk.includes('ready')) {
        ready = true;
        if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ ready, code, stderr });
    });
  });
}

async function verify(
  db: Db,
  scenario: CrashScenario,
  kills: number,
  killsWhileWorking: number,
): Promise<CrashResult> {
  const one = async (sql: string) => Number((await db.query<{ n: bigint }>(sql)).rows[0]!.n);
  return {
    scenario,
    kills,
    killsWhileWorking,
    events: await one(`SELECT count(*) AS n FROM kontor_events`),
    effects: await one(`SELECT count(*) AS n FROM crash_effects`),
    wrong: await one(
      `SELECT count(*) AS n FROM kontor_events e WHERE (SELECT count(*) FROM crash_effects f WHERE f.event_id = e.id) <> 1`,
    ),
    deadLetters: await one(`SELECT count(*) AS n FROM kontor_dead_letters`),
  };
}

/** Runs one scenario: `kills` random SIGKILLs, then a run to completion; returns the counts to check. */
export async function runCrashScenario(
  scenario: CrashScenario,
  options: { kills: number; total: number; minKillMs?: number; maxKillMs?: number },
): Promise<CrashResult> {
  const minMs = options.minKillMs ?? 50;
  const maxMs = options.maxKillMs ?? 600;
  const tag = `${process.pid}_${Math.random().toString(16).slice(2, 10)}`;
  let target: string;
  let cleanup: () => Promise<void>;
  if (scenario === 'embedded-pglite') {
    target = mkdtempSync(join(tmpdir(), 'kontor-crash-'));
    cleanup = async () => rmSync(target, { recursive: true, force: true });
  } else {
    const created = await createPostgresDatabase();
    target = created.url;
    cleanup = created.drop;
  }
  const stream = `KONTOR_CRASH_${tag}`;
  const env = {
    CRASH_DB: target,
    CRASH_TOTAL: String(options.total),
    CRASH_BUS: scenario === 'nats-postgres' ? natsUrl : 'embedded',
    CRASH_STREAM: stream,
    CRASH_PREFIX: `kc_${tag}`,
  };
  try {
    let killsWhileWorking = 0;
    for (let i = 0; i < options.kills; i++) {
      const started = Date.now();
      const r = await runChild(env, minMs + Math.random() * (maxMs - minMs), 120_000);
      if (process.env.CRASH_DEBUG)
        console.error(
          `[crash ${scenario}] run ${i}: ready=${r.ready} code=${r.code} ${Date.now() - started} ms ${r.stderr.slice(0, 500)}`,
        );
      if (r.ready) killsWhileWorking++;
      else if (r.code !== null)
        throw new Error(`crash child exited with ${r.code} before it was ready: ${r.stderr}`);
    }
    const last = await runChild({ ...env, CRASH_FINISH: '1' }, undefined, 300_000);
    if (last.code !== 0) throw new Error(`final crash child run failed (${last.code}): ${last.stderr}`);
    const db =
      scenario === 'embedded-pglite'
        ? await openPglite({ dataDir: target })
        : await openPostgres({ url: target });
    try {
      return await verify(db, scenario, options.kills, killsWhileWorking);
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
    if (scenario === 'nats-postgres') await deleteTestStream(stream);
  }
}

/** Runs the real `kontor` binary as a child process and reads what it prints. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const KONTOR_BIN = fileURLToPath(new URL('../../bin/kontor.mjs', import.meta.url));

export interface KontorProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Spawns `kontor <args>` with `env` added to a clean copy of the environment. */
export function spawnKontor(
  args: string[],
  env: Record<string, string | undefined> = {},
  cwd?: string,
): KontorProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, KONTOR_LOG_LEVEL: 'info', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const child = spawn(process.execPath, [KONTOR_BIN, ...args], { env: childEnv, cwd, stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until the process prints its URL; fails with its output if it exits first or takes too long. */
export async function waitForUrl(p: KontorProcess, timeoutMs = 90_000): Promise<string> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const m = /listening on (http:\/\/\S+)/.exec(p.stdout());
    if (m) return m[1]!;
    const done = await Promise.race([
      p.exited,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
    ]);
    if (done !== undefined)
      throw new Error(`kontor exited (${done}) before listening:\n${p.stdout()}\n${p.stderr()}`);
  }
  throw new Error(`kontor did not print its URL within ${timeoutMs} ms:\n${p.stdout()}\n${p.stderr()}`);
}

/** Runs `kontor <args>` to completion. */
export async function runKontor(args: string[], env: Record<string, string | undefined> = {}, cwd?: string) {
  const p = spawnKontor(args, env, cwd);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

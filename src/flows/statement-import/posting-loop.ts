/**
 * The posting loop: runs {@link postPendingLines} when woken (a statement was received) and
 * every `intervalMs` for the backlog, backing off exponentially while Odoo is unavailable.
 * It runs outside any database transaction, so a slow Odoo never holds a database lock.
 */
import type { PostingResult, StatementPostingDeps } from './post.ts';
import { postPendingLines } from './post.ts';

export interface PostingLoopOptions {
  /** Backlog sweep interval (default 30 s). */
  intervalMs?: number;
  /** Longest wait after repeated failures (default 5 min). */
  maxBackoffMs?: number;
  onResult?(result: PostingResult): void;
  onError?(error: unknown, retryInMs: number): void;
}

export interface PostingLoop {
  /** Asks for a run soon (coalesced). */
  wake(): void;
  /** Resolves after the current run, when stopped. */
  stop(): Promise<void>;
}

/** Starts the loop; the first run happens at once (resuming any backlog after a restart). */
export function startPostingLoop(deps: StatementPostingDeps, options: PostingLoopOptions = {}): PostingLoop {
  const interval = options.intervalMs ?? 30_000;
  const maxBackoff = options.maxBackoffMs ?? 300_000;
  let stopped = false;
  let woken = true;
  let release: (() => void) | undefined;
  let failures = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done() {
        clearTimeout(t);
        release = undefined;
        resolve();
      }
      release = done;
    });

  const run = (async () => {
    while (!stopped) {
      if (!woken)
        await sleep(failures === 0 ? interval : Math.min(maxBackoff, 1000 * 2 ** Math.min(failures, 16)));
      if (stopped) break;
      woken = false;
      try {
        const result = await postPendingLines(deps);
        failures = 0;
        options.onResult?.(result);
      } catch (e) {
        failures++;
        options.onError?.(e, Math.min(maxBackoff, 1000 * 2 ** Math.min(failures, 16)));
      }
    }
  })();

  return {
    wake() {
      woken = true;
      // While backing off after failures, a wake does not cut the wait short: Odoo needs the rest.
      if (failures === 0) release?.();
    },
    async stop() {
      stopped = true;
      release?.();
      await run;
    },
  };
}

/**
 * The reconciliation loop: runs {@link reconcilePending} when woken (a statement was posted) and
 * every `intervalMs` for Odoo retries, backing off while Odoo fails. It runs outside any database
 * transaction, so a slow Odoo never holds a database lock or a consumer's transaction.
 */
import type { ReconciliationDeps } from './deps.ts';
import { reconcilePending } from './reconcile-statement.ts';

export interface ReconciliationLoopOptions {
  /** Sweep interval (default 60 s). */
  intervalMs?: number;
  /** Longest wait after repeated failures (default 5 min). */
  maxBackoffMs?: number;
  onResult?(result: Awaited<ReturnType<typeof reconcilePending>>): void;
  onError?(error: unknown, retryInMs: number): void;
}

export interface ReconciliationLoop {
  /** Asks for a run soon (coalesced). */
  wake(): void;
  /** Resolves after the current run, when stopped. */
  stop(): Promise<void>;
}

/** Starts the loop; the first run happens at once (resuming after a restart). */
export function startReconciliationLoop(
  deps: ReconciliationDeps,
  options: ReconciliationLoopOptions = {},
): ReconciliationLoop {
  const interval = options.intervalMs ?? 60_000;
  const maxBackoff = options.maxBackoffMs ?? 300_000;
  const backoff = (n: number) => Math.min(maxBackoff, 1000 * 2 ** Math.min(n, 16));
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
      if (!woken) await sleep(failures === 0 ? interval : backoff(failures));
      if (stopped) break;
      woken = false;
      try {
        const result = await reconcilePending(deps);
        failures = result.failedInOdoo > 0 ? failures + 1 : 0;
        options.onResult?.(result);
      } catch (e) {
        failures++;
        options.onError?.(e, backoff(failures));
      }
    }
  })();

  return {
    wake() {
      woken = true;
      if (failures === 0) release?.();
    },
    async stop() {
      stopped = true;
      release?.();
      await run;
    },
  };
}

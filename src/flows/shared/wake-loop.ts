/**
 * A background loop that runs one pass when woken and at a sweep interval, backing off
 * exponentially after failed passes. Flows use it for work that talks to Odoo: it runs outside
 * any database transaction, so a slow Odoo never holds a lock or a consumer's transaction.
 */

export interface WakeLoopOptions {
  /** Sweep interval when nothing wakes the loop. */
  intervalMs: number;
  /** Longest wait after repeated failures (default 5 min). */
  maxBackoffMs?: number;
  /** Called with the error of a pass that threw and the wait before the next one. */
  onError?(error: unknown, retryInMs: number): void;
}

export interface WakeLoop {
  /** Asks for a pass soon (coalesced); while backing off after failures, the wait is not cut short. */
  wake(): void;
  /** Resolves after the current pass, when stopped. */
  stop(): Promise<void>;
}

/** Starts the loop; the first pass runs at once. A pass returns `failed: true` to back off without throwing. */
export function startWakeLoop(pass: () => Promise<{ failed: boolean }>, options: WakeLoopOptions): WakeLoop {
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
      if (!woken) await sleep(failures === 0 ? options.intervalMs : backoff(failures));
      if (stopped) break;
      woken = false;
      try {
        failures = (await pass()).failed ? failures + 1 : 0;
      } catch (e) {
        failures++;
        options.onError?.(e, backoff(failures));
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

/**
 * The reconciliation loop: runs {@link reconcilePending} when woken (a statement was posted) and
 * every `intervalMs` for Odoo retries, then re-matches exceptions when open items changed, backing
 * off while Odoo fails.
 */
import { startWakeLoop, type WakeLoop } from '../../shared/index.ts';
import type { ReconciliationDeps } from './deps.ts';
import { reconcilePending } from './reconcile-statement.ts';
import { rematchExceptions, type RematchResult } from './rematch.ts';

export interface ReconciliationLoopOptions {
  /** Sweep interval (default 60 s). */
  intervalMs?: number;
  /** Longest wait after repeated failures (default 5 min). */
  maxBackoffMs?: number;
  onResult?(result: Awaited<ReturnType<typeof reconcilePending>>): void;
  onRematch?(result: RematchResult): void;
  onError?(error: unknown, retryInMs: number): void;
}

export type ReconciliationLoop = WakeLoop;

/** Starts the loop; the first run happens at once (resuming after a restart). */
export function startReconciliationLoop(
  deps: ReconciliationDeps,
  options: ReconciliationLoopOptions = {},
): ReconciliationLoop {
  return startWakeLoop(
    async () => {
      const result = await reconcilePending(deps);
      options.onResult?.(result);
      // Exceptions are matched again when new open items appeared (bounded; see rematch.ts).
      const rematched = await rematchExceptions(deps);
      options.onRematch?.(rematched);
      // Lines Odoo refused are retried later: back off as for an outage.
      return { failed: result.failedInOdoo + rematched.failedInOdoo > 0 };
    },
    {
      intervalMs: options.intervalMs ?? 60_000,
      ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
      onError: (error, retryInMs) => options.onError?.(error, retryInMs),
    },
  );
}

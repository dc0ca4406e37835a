/**
 * The posting loop: runs {@link postPendingLines} when woken (a statement was received) and
 * every `intervalMs` for the backlog, backing off exponentially while Odoo is unavailable.
 */
import { startWakeLoop, type WakeLoop } from '../shared/index.ts';
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

export type PostingLoop = WakeLoop;

/** Starts the loop; the first run happens at once (resuming any backlog after a restart). */
export function startPostingLoop(deps: StatementPostingDeps, options: PostingLoopOptions = {}): PostingLoop {
  return startWakeLoop(
    async () => {
      const result = await postPendingLines(deps);
      options.onResult?.(result);
      return { failed: false };
    },
    {
      intervalMs: options.intervalMs ?? 30_000,
      ...(options.maxBackoffMs === undefined ? {} : { maxBackoffMs: options.maxBackoffMs }),
      onError: (error, retryInMs) => options.onError?.(error, retryInMs),
    },
  );
}

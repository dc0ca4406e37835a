/** Throttling, bounded concurrency, retries and the circuit breaker that protect Odoo from bursts. */
import { ErrorCodes, RetryAfterError } from '../../domain/index.ts';

/** Time as the resilience parts see it; injected so tests run fast and deterministic. */
export interface Timer {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

/** The real clock, sleep and randomness. */
export const systemTimer: Timer = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

/** Rate and burst of the token bucket. */
export interface TokenBucketOptions {
  /** Tokens added per second; 0 or Infinity disables throttling. */
  ratePerSecond: number;
  /** Largest burst allowed after an idle period. */
  burst: number;
}

/** A token bucket: each call takes one token and waits until one is available. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: TokenBucketOptions,
    private readonly timer: Timer,
  ) {
    this.tokens = options.burst;
    this.last = timer.now();
  }

  /** Waits for and takes one token. */
  acquire(): Promise<void> {
    const { ratePerSecond } = this.options;
    if (!(ratePerSecond > 0) || ratePerSecond === Infinity) return Promise.resolve();
    // Callers queue so tokens are handed out in arrival order, never to whoever polls first.
    const next = this.queue.then(async () => {
      for (;;) {
        this.refill();
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await this.timer.sleep(Math.ceil(((1 - this.tokens) / ratePerSecond) * 1000));
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private refill(): void {
    const now = this.timer.now();
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.options.burst, this.tokens + elapsed * this.options.ratePerSecond);
  }
}

/** A counting semaphore that bounds how many calls are in flight at once. */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Runs `task` once a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await task();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

/** The circuit breaker's state, as metrics and /readyz show it. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** When the circuit opens and for how long. */
export interface CircuitBreakerOptions {
  /** Consecutive transient failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe is let through. */
  openMs: number;
}

/** A circuit breaker: closed → open after repeated failures → half-open probe → closed or open again. */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private current: CircuitState = 'closed';

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly timer: Timer,
  ) {}

  /** The state now, moving from open to half-open once the open period has passed. */
  get state(): CircuitState {
    if (this.current === 'open' && this.timer.now() - this.openedAt >= this.options.openMs)
      this.current = 'half-open';
    return this.current;
  }

  /** Throws ODOO_CIRCUIT_OPEN unless a call may go through now. */
  admit(): void {
    const state = this.state;
    if (state === 'closed') return;
    if (state === 'half-open' && !this.probing) {
      this.probing = true;
      return;
    }
    throw new RetryAfterError(ErrorCodes.ODOO_CIRCUIT_OPEN, 'Odoo circuit is open after repeated failures', {
      retryAt: new Date(this.openedAt + this.options.openMs),
    });
  }

  /** Records a call that reached Odoo and got an answer. */
  recordSuccess(): void {
    this.failures = 0;
    this.probing = false;
    this.current = 'closed';
  }

  /** Records a transient failure (network, gateway, overload). */
  recordFailure(): void {
    this.failures += 1;
    const wasProbe = this.probing;
    this.probing = false;
    if (wasProbe || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.timer.now();
    }
  }
}

/** How often and how patiently transient failures are retried. */
export interface RetryOptions {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Full-jitter exponential backoff: a random delay up to base·2^(attempt−1), capped. */
export function computeBackoffMs(attempt: number, options: RetryOptions, random: () => number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

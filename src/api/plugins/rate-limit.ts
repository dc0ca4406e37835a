/**
 * Rate limits, in two buckets with the same budget: per presented credential (before
 * authentication, so a flood costs no database lookups) and per identity (after it, so one
 * identity's keys and tokens share one budget). Anonymous requests count per IP. 429 with
 * Retry-After, in the one error body.
 *
 * A fixed-window counter of our own rather than @fastify/rate-limit: that plugin runs at most
 * one limiter per request, and its local store hands out a shared, mutable counter, so a
 * concurrent burst saw every request as over the limit.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError, ErrorCodes } from '../../domain/index.ts';
import type { App } from '../routes/types.ts';

/** Default budget: requests per identity and window. */
export const DEFAULT_RATE_LIMIT = { max: 600, timeWindowMs: 60_000 };

const UNLIMITED = new Set(['/healthz', '/readyz']);

/** Fixed-window counters per key, in memory (one process; see docs/security.md for clusters). */
export class WindowCounter {
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  readonly #max: number;
  readonly #windowMs: number;

  constructor(max: number, windowMs: number) {
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** Counts one request; says whether it is allowed and, if not, in how many seconds to retry. */
  hit(
    key: string,
    now: number = Date.now(),
  ): { allowed: boolean; remaining: number; retryAfterSeconds: number } {
    let w = this.#windows.get(key);
    if (w === undefined || w.resetAt <= now) {
      if (this.#windows.size > 100_000) this.#sweep(now);
      w = { count: 0, resetAt: now + this.#windowMs };
      this.#windows.set(key, w);
    }
    w.count++;
    return {
      allowed: w.count <= this.#max,
      remaining: Math.max(0, this.#max - w.count),
      retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - now) / 1000)),
    };
  }

  #sweep(now: number): void {
    for (const [k, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(k);
  }
}

function credentialKey(request: FastifyRequest): string {
  const header = request.headers.authorization;
  // A digest, never the credential itself: the limiter must not hold secrets.
  return typeof header === 'string' && header !== ''
    ? `cred:${createHash('sha256').update(header).digest('base64url')}`
    : `ip:${request.ip}`;
}

function identityKey(request: FastifyRequest): string {
  return request.identity === null ? `ip:${request.ip}` : `id:${request.identity.identityId}`;
}

/** Adds one onRequest limiter keyed before (`credential`) or after (`identity`) authentication. */
export function addRateLimitHook(
  app: App,
  bucket: 'credential' | 'identity',
  limit = DEFAULT_RATE_LIMIT,
): void {
  const counter = new WindowCounter(limit.max, limit.timeWindowMs);
  const keyOf = bucket === 'credential' ? credentialKey : identityKey;
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404 || UNLIMITED.has(request.routeOptions.url ?? '')) return;
    const r = counter.hit(keyOf(request));
    void reply.header('x-ratelimit-limit', limit.max);
    void reply.header('x-ratelimit-remaining', r.remaining);
    if (!r.allowed) {
      void reply.header('retry-after', r.retryAfterSeconds);
      throw new AppError(
        ErrorCodes.RATE_LIMITED,
        `rate limit exceeded: at most ${limit.max} requests per ${Math.round(limit.timeWindowMs / 1000)} s; retry later`,
        {
          details: { limit: limit.max, retryAfterSeconds: r.retryAfterSeconds },
        },
      );
    }
  });
}

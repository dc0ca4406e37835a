import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '../../domain/index.ts';
import {
  CircuitBreaker,
  computeBackoffMs,
  ConcurrencyLimiter,
  type Timer,
  TokenBucket,
} from './resilience.ts';

const NOW = 1_700_000_000_000;

function createFakeTimer(): Timer & { slept: number[] } {
  let now = NOW;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: () => 0.5,
  };
}

test('a token bucket lets a burst through and then paces calls at the configured rate', async () => {
  const timer = createFakeTimer();
  const bucket = new TokenBucket({ ratePerSecond: 10, burst: 3 }, timer);
  for (let i = 0; i < 5; i++) await bucket.acquire();
  assert.deepEqual(timer.slept, [100, 100]);
});

test('the circuit opens after repeated failures, lets one probe through when half-open, and closes on success', () => {
  const timer = createFakeTimer();
  const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 1000 }, timer);
  breaker.admit();
  breaker.recordFailure();
  assert.equal(breaker.state, 'closed');
  breaker.recordFailure();
  assert.equal(breaker.state, 'open');
  assert.throws(
    () => breaker.admit(),
    (e: { code: string; retryable: boolean }) => e.code === ErrorCodes.ODOO_CIRCUIT_OPEN && e.retryable,
  );
  void timer.sleep(1000);
  assert.equal(breaker.state, 'half-open');
  breaker.admit();
  assert.throws(() => breaker.admit(), /circuit is open/);
  breaker.recordFailure();
  assert.equal(breaker.state, 'open');
  void timer.sleep(1000);
  breaker.admit();
  breaker.recordSuccess();
  assert.equal(breaker.state, 'closed');
});

test('backoff grows exponentially with full jitter and a cap', () => {
  const options = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(
    computeBackoffMs(1, options, () => 0.999),
    99,
  );
  assert.equal(
    computeBackoffMs(3, options, () => 0.5),
    200,
  );
  assert.equal(
    computeBackoffMs(10, options, () => 0.5),
    500,
  );
});

test('the concurrency limiter never runs more tasks at once than its limit', async () => {
  const limiter = new ConcurrencyLimiter(2);
  let active = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: 6 }, () =>
      limiter.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setImmediate(r));
        active--;
      }),
    ),
  );
  assert.equal(peak, 2);
});

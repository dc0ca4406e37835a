import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startWakeLoop } from './index.ts';

describe('wake loop', () => {
  it('runs at once, again when woken, and reports a throwing pass with its backoff', async () => {
    let passes = 0;
    const errors: number[] = [];
    const loop = startWakeLoop(
      async () => {
        passes++;
        if (passes === 2) throw new Error('Odoo down');
        return { failed: false };
      },
      { intervalMs: 60_000, onError: (_e, retryInMs) => errors.push(retryInMs) },
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(passes, 1);
    loop.wake();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(passes, 2);
    assert.deepEqual(errors, [2000]);
    loop.wake();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(passes, 2, 'a wake does not cut a backoff short');
    await loop.stop();
  });
});

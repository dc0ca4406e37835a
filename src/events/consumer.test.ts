import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeBackoff } from './consumer.ts';

describe('computeBackoff', () => {
  it('doubles per attempt between half and all of the exponential delay', () => {
    assert.equal(
      computeBackoff(1, { baseMs: 100 }, () => 0),
      50,
    );
    assert.equal(
      computeBackoff(1, { baseMs: 100 }, () => 1),
      100,
    );
    assert.equal(
      computeBackoff(3, { baseMs: 100 }, () => 0),
      200,
    );
    assert.equal(
      computeBackoff(3, { baseMs: 100 }, () => 1),
      400,
    );
  });

  it('never exceeds the cap', () => {
    assert.equal(
      computeBackoff(30, { baseMs: 100, maxMs: 5_000 }, () => 1),
      5_000,
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findSubsets } from './subset-sum.ts';

const limits = { minSize: 2, maxSize: 4, maxIterations: 10_000, maxSolutions: 2 };

describe('findSubsets', () => {
  it('finds the one subset that adds up, credit notes negative', () => {
    const r = findSubsets([30000n, -4500n, 61000n, 1234n], 25500n, limits);
    assert.deepEqual(r.solutions, [[0, 1]]);
    assert.equal(r.truncated, false);
  });

  it('reports a second solution so the caller knows it is not unique', () => {
    const r = findSubsets([10n, 20n, 30n, 40n], 50n, limits);
    assert.equal(r.solutions.length, 2);
  });

  it('respects the size bound', () => {
    assert.deepEqual(findSubsets([1n, 2n, 4n, 8n, 16n], 31n, limits).solutions, []);
  });

  it('stops at the iteration bound and says so', () => {
    const values = Array.from({ length: 40 }, (_, i) => BigInt(1000 + i * 7));
    const r = findSubsets(values, 1n, { minSize: 2, maxSize: 12, maxIterations: 100, maxSolutions: 2 });
    assert.equal(r.solutions.length, 0);
    // All values are positive and larger than the target, so range pruning ends the search early.
    assert.equal(r.truncated, false);
    const mixed = values.map((v, i) => (i % 2 ? -v : v));
    assert.equal(
      findSubsets(mixed, 3n, { minSize: 2, maxSize: 12, maxIterations: 100, maxSolutions: 2 }).truncated,
      true,
    );
  });
});

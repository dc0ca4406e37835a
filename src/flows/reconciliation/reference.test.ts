import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createRfReference,
  extractReferenceCandidates,
  formatRfReference,
  hasValidRfCheckDigits,
  normaliseReference,
} from './reference.ts';

describe('references', () => {
  it('verifies the ISO 11649 example and rejects a changed check digit or body', () => {
    assert.equal(hasValidRfCheckDigits('RF18539007547034'), true);
    assert.equal(hasValidRfCheckDigits('RF19539007547034'), false);
    assert.equal(hasValidRfCheckDigits('RF18539007547035'), false);
    assert.equal(hasValidRfCheckDigits('RF18'), false);
  });

  it('creates references whose check digits verify, letters included', () => {
    for (const body of ['1', 'ABC123', '539007547034', 'K0NT0R2026INV000042']) {
      const rf = createRfReference(body);
      assert.equal(hasValidRfCheckDigits(rf), true, rf);
    }
  });

  it('normalises spaces, case and punctuation', () => {
    assert.equal(normaliseReference(' inv/2026-0042. '), 'INV20260042');
    assert.equal(formatRfReference('RF18539007547034'), 'RF18 5390 0754 7034');
  });

  it('joins adjacent tokens so split references are found, and skips short tokens', () => {
    const c = extractReferenceCandidates(['Pay RF18 5390 0754 7034, INV 2026 0042', undefined]);
    assert.ok(c.includes('RF18539007547034'));
    assert.ok(c.includes('INV20260042'));
    assert.ok(!c.includes('PAY'));
  });
});

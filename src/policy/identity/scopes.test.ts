import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateKey, parseDuration, planRotationExpiry } from './identity.ts';
import { findInvalidScopes, hasScope, isScope } from './scopes.ts';

describe('scopes', () => {
  it('accepts known resources and actions only', () => {
    assert.ok(isScope('payment-orders:approve'));
    assert.ok(isScope('dead-letters:admin'));
    assert.ok(!isScope('payment-orders:delete'));
    assert.ok(!isScope('planets:read'));
    assert.deepEqual(findInvalidScopes(['audit:read', 'x:y']), ['x:y']);
  });

  it('lets admin imply read and write on its resource but never approve', () => {
    const granted = ['payments:admin'];
    assert.ok(hasScope(granted, 'payments:read'));
    assert.ok(hasScope(granted, 'payments:write'));
    assert.ok(hasScope(granted, 'payments:admin'));
    assert.ok(!hasScope(granted, 'payments:approve'));
    assert.ok(!hasScope(granted, 'payment-orders:read'));
  });

  it('does not let write imply read or approve imply write', () => {
    assert.ok(!hasScope(['statements:write'], 'statements:read'));
    assert.ok(!hasScope(['payments:approve'], 'payments:write'));
  });
});

describe('key rules', () => {
  const NOW = new Date(1_700_000_000_000);
  it('evaluates validity, expiry and revocation', () => {
    const key = {
      createdAt: new Date(NOW.getTime() - 1000),
      expiresAt: new Date(NOW.getTime() + 1000),
      revokedAt: null,
    };
    assert.equal(evaluateKey(key, NOW), 'valid');
    assert.equal(evaluateKey(key, new Date(NOW.getTime() + 1000)), 'expired');
    assert.equal(evaluateKey({ ...key, revokedAt: NOW }, NOW), 'revoked');
  });

  it('keeps an old key for the overlap window but never beyond its own expiry', () => {
    assert.equal(
      planRotationExpiry(new Date(NOW.getTime() + 10_000), NOW, 1000).getTime(),
      NOW.getTime() + 1000,
    );
    assert.equal(planRotationExpiry(new Date(NOW.getTime() + 500), NOW, 1000).getTime(), NOW.getTime() + 500);
  });

  it('parses durations', () => {
    assert.equal(parseDuration('90d'), 90 * 86_400_000);
    assert.equal(parseDuration('12h'), 12 * 3_600_000);
    assert.throws(() => parseDuration('forever'), /not a duration/);
    assert.throws(() => parseDuration('0d'), /not a duration/);
  });
});

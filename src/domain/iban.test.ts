import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bankAccountSchema,
  ibanSchema,
  isIban,
  maskIban,
  parseBic,
  parseIban,
  parseWith,
  ValidationError,
} from './index.ts';

describe('IBAN', () => {
  it('normalises spacing and case and validates check digits', () => {
    assert.equal(parseIban('de89 3704 0044 0532 0130 00'), 'DE89370400440532013000');
    assert.equal(isIban('GB82WEST12345698765432'), true);
    assert.equal(isIban('DE89370400440532013001'), false);
  });

  it('names the reason and never echoes the full IBAN', () => {
    assert.throws(
      () => parseIban('DE89370400440532013001'),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.code === 'INVALID_IBAN' &&
        /mod 97/.test(e.message) &&
        !e.message.includes('0532013001'),
    );
    assert.throws(() => parseIban('ZZ89370400440532013000'), /unknown country/);
  });

  it('masks all but country, check digits and the last four', () => {
    assert.equal(maskIban('DE89 3704 0044 0532 0130 00'), 'DE89**************3000');
    assert.equal(maskIban('short'), '*****');
  });
});

describe('BIC', () => {
  it('accepts 8 and 11 characters and rejects bad ones', () => {
    assert.equal(parseBic('deutdeff'), 'DEUTDEFF');
    assert.equal(parseBic('DEUTDEFF500'), 'DEUTDEFF500');
    assert.throws(() => parseBic('DEUT'), { code: 'INVALID_BIC' });
  });
});

describe('schemas name the field path', () => {
  it('reports bankAccount.iban', () => {
    assert.equal(ibanSchema.safeParse('DE89370400440532013000').success, true);
    assert.throws(
      () =>
        parseWith(
          bankAccountSchema,
          { id: 'a', iban: 'DE00370400440532013000', currency: 'EUR' },
          'bank account',
        ),
      (e: unknown) => e instanceof ValidationError && e.issues[0]?.path === 'iban',
    );
    assert.throws(
      () => parseWith(bankAccountSchema, { id: 'a', currency: 'EUR' }, 'bank account'),
      /needs an iban or an accountNumber/,
    );
  });
});

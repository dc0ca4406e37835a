import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  add,
  allocate,
  compare,
  currencyExponent,
  formatMoney,
  listCurrencies,
  money,
  moneySchema,
  parseCurrency,
  parseMoney,
  subtract,
  sum,
  ValidationError,
} from './index.ts';

describe('currencies', () => {
  it('knows the minor-unit exponent of every active currency', () => {
    assert.equal(currencyExponent(parseCurrency('JPY')), 0);
    assert.equal(currencyExponent(parseCurrency('EUR')), 2);
    assert.equal(currencyExponent(parseCurrency('USD')), 2);
    assert.equal(currencyExponent(parseCurrency('KWD')), 3);
    assert.equal(currencyExponent(parseCurrency('BHD')), 3);
    assert.equal(currencyExponent(parseCurrency('CLF')), 4);
    assert.ok(listCurrencies().length > 150);
  });

  it('rejects unknown codes and metals', () => {
    assert.throws(() => parseCurrency('EURO'), { code: 'UNKNOWN_CURRENCY' });
    assert.throws(() => parseCurrency('eur'), { code: 'UNKNOWN_CURRENCY' });
    assert.throws(() => parseCurrency('XAU'), { code: 'UNKNOWN_CURRENCY' });
  });
});

describe('parseMoney', () => {
  it('parses decimal strings exactly', () => {
    assert.equal(parseMoney('1234.5', 'EUR').amount, 123450n);
    assert.equal(parseMoney('-0.01', 'EUR').amount, -1n);
    assert.equal(parseMoney('+7', 'EUR').amount, 700n);
    assert.equal(parseMoney('1500', 'JPY').amount, 1500n);
    assert.equal(parseMoney('1.234', 'KWD').amount, 1234n);
    assert.equal(parseMoney('12,34', 'EUR', { decimalSeparator: ',' }).amount, 1234n);
    assert.equal(parseMoney('0.10', 'EUR').amount, 10n);
    assert.equal(
      parseMoney('1.500', 'EUR').amount,
      150n,
      'trailing zeros beyond the exponent carry no value',
    );
    assert.equal(parseMoney('99999999999999999999.99', 'EUR').amount, 9999999999999999999999n);
  });

  it('rejects more decimals than the currency has, instead of rounding', () => {
    assert.throws(
      () => parseMoney('1.001', 'EUR'),
      (e: unknown) => e instanceof ValidationError && /3 decimals but EUR has 2/.test(e.message),
    );
    assert.throws(() => parseMoney('1.5', 'JPY'), { code: 'INVALID_MONEY' });
  });

  it('rejects NaN, Infinity, exponents, empty and thousands separators', () => {
    for (const bad of [
      'NaN',
      'Infinity',
      '-Infinity',
      '1e3',
      '',
      ' ',
      '1,000.00',
      '1.2.3',
      '--1',
      '.5',
      '0x10',
      '1 000',
    ]) {
      assert.throws(() => parseMoney(bad, 'EUR'), { code: 'INVALID_MONEY' }, bad);
    }
  });

  it('round-trips every amount of every exponent (property)', () => {
    const currencies = ['JPY', 'EUR', 'KWD', 'CLF'];
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.constantFrom(...currencies),
        (amount, ccy) => {
          const m = money(amount, ccy);
          const text = formatMoney(m);
          assert.equal(parseMoney(text, ccy).amount, amount);
          assert.match(
            text,
            currencyExponent(m.currency) === 0
              ? /^-?\d+$/
              : new RegExp(`^-?\\d+\\.\\d{${currencyExponent(m.currency)}}$`),
          );
        },
      ),
    );
  });

  it('formats with the currency exponent', () => {
    assert.equal(formatMoney(money(5n, 'EUR')), '0.05');
    assert.equal(formatMoney(money(-5n, 'EUR')), '-0.05');
    assert.equal(formatMoney(money(1234n, 'KWD')), '1.234');
    assert.equal(formatMoney(money(1234n, 'JPY')), '1234');
  });
});

describe('arithmetic', () => {
  it('refuses to mix currencies', () => {
    assert.throws(() => add(money(1n, 'EUR'), money(1n, 'USD')), { code: 'CURRENCY_MISMATCH' });
    assert.throws(() => subtract(money(1n, 'EUR'), money(1n, 'USD')), { code: 'CURRENCY_MISMATCH' });
    assert.throws(() => compare(money(1n, 'EUR'), money(1n, 'USD')), { code: 'CURRENCY_MISMATCH' });
    assert.throws(() => sum([money(1n, 'EUR'), money(1n, 'USD')], 'EUR'), { code: 'CURRENCY_MISMATCH' });
  });

  it('adds and sums exactly', () => {
    assert.equal(add(parseMoney('0.10', 'EUR'), parseMoney('0.20', 'EUR')).amount, 30n);
    assert.equal(sum([], 'EUR').amount, 0n);
  });
});

describe('allocate', () => {
  it('splits 100.00 in three without losing a cent', () => {
    const parts = allocate(parseMoney('100.00', 'EUR'), [1, 1, 1]).map(formatMoney);
    assert.deepEqual(parts, ['33.34', '33.33', '33.33']);
  });

  it('handles negative amounts and zero ratios', () => {
    assert.deepEqual(
      allocate(money(-100n, 'EUR'), [1, 0, 1]).map((m) => m.amount),
      [-50n, 0n, -50n],
    );
    assert.throws(() => allocate(money(1n, 'EUR'), [0, 0]), { code: 'INVALID_MONEY' });
    assert.throws(() => allocate(money(1n, 'EUR'), [-1, 2]), { code: 'INVALID_MONEY' });
    assert.throws(() => allocate(money(1n, 'EUR'), [0.5]), { code: 'INVALID_MONEY' });
  });

  it('always adds up to the whole and stays within one unit of the exact share (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc
          .array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 20 })
          .filter((r) => r.some((x) => x > 0)),
        (amount, ratios) => {
          const parts = allocate(money(amount, 'EUR'), ratios);
          assert.equal(parts.length, ratios.length);
          assert.equal(
            parts.reduce((a, p) => a + p.amount, 0n),
            amount,
          );
          const total = BigInt(ratios.reduce((a, b) => a + b, 0));
          parts.forEach((p, i) => {
            const exactTimesTotal = amount * BigInt(ratios[i]!);
            const diff = p.amount * total - exactTimesTotal;
            assert.ok(
              (diff < 0n ? -diff : diff) < total,
              'each share is within one minor unit of its exact value',
            );
          });
        },
      ),
    );
  });
});

describe('moneySchema', () => {
  it('parses the JSON form and names the field on error', () => {
    assert.equal(moneySchema.parse({ amount: '12.34', currency: 'EUR' }).amount, 1234n);
    const r = moneySchema.safeParse({ amount: '12.345', currency: 'EUR' });
    assert.equal(r.success, false);
    assert.deepEqual(r.error?.issues[0]?.path, ['amount']);
  });
});

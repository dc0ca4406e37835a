/**
 * Money: an integer number of minor units (bigint) and an ISO 4217 currency. No float ever
 * holds an amount; decimal strings are parsed and printed exactly.
 */
import { z } from 'zod';
import { type CurrencyCode, currencyExponent, parseCurrency } from './currency.ts';
import { ErrorCodes, ValidationError } from './errors.ts';

export interface Money {
  /** Amount in minor units of `currency` (cents for EUR, yen for JPY, fils for KWD). */
  readonly amount: bigint;
  readonly currency: CurrencyCode;
}

export interface ParseMoneyOptions {
  /** The decimal separator of the input; MT940 and many CSVs use ",". Defaults to ".". */
  decimalSeparator?: '.' | ',';
}

function invalid(message: string): ValidationError {
  return new ValidationError(message, [], { code: ErrorCodes.INVALID_MONEY });
}

/** Makes Money from minor units. */
export function money(amount: bigint, currency: string): Money {
  return Object.freeze({ amount, currency: parseCurrency(currency) });
}

/** Zero in the given currency. */
export function zero(currency: string): Money {
  return money(0n, currency);
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal string exactly: "1234.5" EUR → 123450 cents. Rejects exponents, NaN,
 * Infinity, thousands separators and more decimals than the currency has (no silent rounding).
 */
export function parseMoney(input: string, currency: string, options: ParseMoneyOptions = {}): Money {
  const code = parseCurrency(currency);
  if (typeof input !== 'string') throw invalid(`amount must be a decimal string, got ${typeof input}`);
  let text = input.trim();
  if (options.decimalSeparator === ',') {
    if (text.includes('.')) throw invalid(`amount "${input}" uses "." but the decimal separator is ","`);
    text = text.replace(',', '.');
  }
  const m = DECIMAL.exec(text);
  if (!m)
    throw invalid(`"${input}" is not a decimal amount (expected digits with an optional sign and decimals)`);
  const [, sign, whole = '0', fraction = ''] = m;
  const exponent = currencyExponent(code);
  // Trailing zeros beyond the exponent carry no value ("1.500" EUR is exact); other digits would be lost.
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) {
    throw invalid(`"${input}" has ${significant.length} decimals but ${code} has ${exponent}`);
  }
  const minor = BigInt(whole + fraction.slice(0, exponent).padEnd(exponent, '0'));
  return money(sign === '-' ? -minor : minor, code);
}

/** Prints the exact decimal form with the currency's number of decimals: 123450n EUR → "1234.50". */
export function formatMoney(value: Money): string {
  const exponent = currencyExponent(value.currency);
  const negative = value.amount < 0n;
  const digits = (negative ? -value.amount : value.amount).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** Money as it travels in JSON: `{ amount: "1234.50", currency: "EUR" }`. */
export function toMoneyJson(value: Money): { amount: string; currency: string } {
  return { amount: formatMoney(value), currency: value.currency };
}

function assertSameCurrency(a: Money, b: Money, op: string): void {
  if (a.currency !== b.currency) {
    throw new ValidationError(`cannot ${op} ${a.currency} and ${b.currency}`, [], {
      code: ErrorCodes.CURRENCY_MISMATCH,
    });
  }
}

/** a + b; both in the same currency. */
export function add(a: Money, b: Money): Money {
  assertSameCurrency(a, b, 'add');
  return money(a.amount + b.amount, a.currency);
}

/** a − b; both in the same currency. */
export function subtract(a: Money, b: Money): Money {
  assertSameCurrency(a, b, 'subtract');
  return money(a.amount - b.amount, a.currency);
}

/** −a. */
export function negate(a: Money): Money {
  return money(-a.amount, a.currency);
}

/** |a|. */
export function abs(a: Money): Money {
  return a.amount < 0n ? negate(a) : a;
}

/** −1, 0 or 1; both in the same currency. */
export function compare(a: Money, b: Money): -1 | 0 | 1 {
  assertSameCurrency(a, b, 'compare');
  return a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0;
}

/** True when both have the same currency and amount. */
export function equals(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.amount === b.amount;
}

/** Sum of a list in one currency (the currency is needed for the empty list). */
export function sum(values: readonly Money[], currency: string): Money {
  const code = parseCurrency(currency);
  let total = 0n;
  for (const v of values) {
    if (v.currency !== code) {
      throw new ValidationError(`cannot sum ${v.currency} into ${code}`, [], {
        code: ErrorCodes.CURRENCY_MISMATCH,
      });
    }
    total += v.amount;
  }
  return money(total, code);
}

/**
 * Splits `value` by integer ratios without losing a minor unit: the shares add up to `value`
 * exactly, and the remainder goes one unit at a time to the largest fractional remainders
 * (ties to the earlier share). allocate(100.00, [1,1,1]) → 33.34, 33.33, 33.33.
 */
export function allocate(value: Money, ratios: readonly (number | bigint)[]): Money[] {
  if (ratios.length === 0) throw invalid('allocate needs at least one ratio');
  const weights = ratios.map((r) => {
    if (typeof r === 'number' && !Number.isSafeInteger(r)) throw invalid(`ratio ${r} is not an integer`);
    const w = BigInt(r);
    if (w < 0n) throw invalid(`ratio ${r} is negative`);
    return w;
  });
  const total = weights.reduce((a, b) => a + b, 0n);
  if (total === 0n) throw invalid('ratios add up to zero');
  const negative = value.amount < 0n;
  const amount = negative ? -value.amount : value.amount;
  const shares = weights.map((w) => (amount * w) / total);
  const remainders = weights.map((w, i) => ({ i, r: (amount * w) % total }));
  let left = amount - shares.reduce((a, b) => a + b, 0n);
  remainders.sort((x, y) => (y.r > x.r ? 1 : y.r < x.r ? -1 : x.i - y.i));
  for (const { i } of remainders) {
    if (left === 0n) break;
    shares[i] = shares[i]! + 1n;
    left -= 1n;
  }
  return shares.map((s) => money(negative ? -s : s, value.currency));
}

/** Runtime schema: Money from `{ amount: "12.34", currency: "EUR" }` (JSON) or a Money value. */
export const moneySchema = z
  .object({
    amount: z.union([z.string(), z.bigint()]),
    currency: z.string().length(3),
  })
  .transform((v, ctx): Money => {
    try {
      return typeof v.amount === 'bigint' ? money(v.amount, v.currency) : parseMoney(v.amount, v.currency);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e), path: ['amount'] });
      return z.NEVER;
    }
  });

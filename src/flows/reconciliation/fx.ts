/** A bank line's amount in an open item's currency: same currency, the bank's instructed amount, or a provided rate. */
import { currencyExponent, parseCurrency } from '../../domain/index.ts';
import type { BankLine, MatchContext } from './types.ts';

/** How a line's amount was expressed in an item currency. */
export interface ConvertedAmount {
  /** Signed minor units in the target currency. */
  readonly amount: bigint;
  /** `same`: the line's currency; `instructed`: the bank's instructed amount (exact); `rate`: converted, approximate. */
  readonly basis: 'same' | 'instructed' | 'rate';
  /** The rate used, for the explanation. */
  readonly rate?: string;
}

const RATE = /^(\d+)(?:\.(\d+))?$/;

// Rates are decimal strings and amounts bigints, so the conversion is exact up to one final rounding
// (half away from zero), and no float ever holds an amount.
function convertMinor(amount: bigint, from: string, to: string, rate: string): bigint | undefined {
  const m = RATE.exec(rate.trim());
  if (!m) return undefined;
  const [, whole = '0', fraction = ''] = m;
  const numerator = BigInt(whole + fraction);
  if (numerator === 0n) return undefined;
  const shift = currencyExponent(parseCurrency(to)) - currencyExponent(parseCurrency(from)) - fraction.length;
  let num = amount * numerator;
  let den = 1n;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den = 10n ** BigInt(-shift);
  const negative = num < 0n;
  const abs = negative ? -num : num;
  const q = (abs * 2n + den) / (den * 2n);
  return negative ? -q : q;
}

/** The line's amount in `currency`, or undefined when neither the bank nor the context says how to convert it. */
export function convertLineAmount(
  line: BankLine,
  currency: string,
  context: MatchContext,
): ConvertedAmount | undefined {
  const from = line.amount.currency;
  if (from === currency) return { amount: line.amount.amount, basis: 'same' };
  const instructed = line.instructedAmount;
  if (instructed !== undefined && instructed.currency === currency) {
    // The instructed amount is unsigned in most bank formats; it takes the booked line's direction.
    const abs = instructed.amount < 0n ? -instructed.amount : instructed.amount;
    return { amount: line.amount.amount < 0n ? -abs : abs, basis: 'instructed' };
  }
  const rate = context.rates?.[`${from}/${currency}`];
  if (rate !== undefined) {
    const amount = convertMinor(line.amount.amount, from, currency, rate);
    if (amount !== undefined) return { amount, basis: 'rate', rate };
  }
  const inverse = context.rates?.[`${currency}/${from}`];
  if (inverse !== undefined) {
    const amount = convertInverse(line.amount.amount, from, currency, inverse);
    if (amount !== undefined) return { amount, basis: 'rate', rate: `1/${inverse}` };
  }
  return undefined;
}

// amount / rate, rounded half away from zero; used when only the opposite quotation is provided.
function convertInverse(amount: bigint, from: string, to: string, rate: string): bigint | undefined {
  const m = RATE.exec(rate.trim());
  if (!m) return undefined;
  const [, whole = '0', fraction = ''] = m;
  const denominator = BigInt(whole + fraction);
  if (denominator === 0n) return undefined;
  const shift = currencyExponent(parseCurrency(to)) - currencyExponent(parseCurrency(from)) + fraction.length;
  let num = amount;
  let den = denominator;
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  const negative = num < 0n;
  const abs = negative ? -num : num;
  const q = (abs * 2n + den) / (den * 2n);
  return negative ? -q : q;
}

/** The only place where Odoo's float amounts become Money and back. */
import { currencyExponent, formatMoney, type Money, money, parseCurrency } from '../../domain/index.ts';

const NUMBER = /^([+-])?(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/**
 * Converts an Odoo float to Money: the float's shortest decimal string is rounded half-even to the
 * currency's exponent with integer arithmetic, so 0.1 + 0.2 = 0.30000000000000004 reads as 0.30.
 */
export function fromOdooAmount(value: number | string | false | null | undefined, currency: string): Money {
  const code = parseCurrency(currency);
  if (value === false || value === null || value === undefined) return money(0n, code);
  const text = typeof value === 'number' ? numberToDecimal(value) : value.trim();
  const m = NUMBER.exec(text);
  if (!m) throw new TypeError(`Odoo amount "${text}" is not a number`);
  const [, sign, whole = '0', fraction = '', exp = '0'] = m;
  let digits = (whole + fraction).replace(/^0+(?=\d)/, '');
  // The position of the decimal point counted from the right end of `digits`.
  let scale = fraction.length - Number.parseInt(exp, 10);
  if (scale < 0) {
    digits += '0'.repeat(-scale);
    scale = 0;
  }
  const exponent = currencyExponent(code);
  let minor: bigint;
  if (scale <= exponent) {
    minor = BigInt(digits) * 10n ** BigInt(exponent - scale);
  } else {
    const divisor = 10n ** BigInt(scale - exponent);
    const n = BigInt(digits);
    const q = n / divisor;
    const r = n % divisor;
    const twice = r * 2n;
    // Half-even: exact halves go to the even neighbour so repeated conversions do not drift.
    minor = twice > divisor || (twice === divisor && q % 2n === 1n) ? q + 1n : q;
  }
  return money(sign === '-' ? -minor : minor, code);
}

/** The exact decimal string Odoo gets for an amount (used by `load`, which takes strings). */
export function toOdooDecimal(value: Money): string {
  return formatMoney(value);
}

/** The JSON number Odoo gets for an amount, produced from the exact decimal string. */
export function toOdooNumber(value: Money): number {
  return Number(formatMoney(value));
}

function numberToDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`Odoo amount ${value} is not finite`);
  return String(value);
}

/** ISO 4217 currencies and their minor-unit exponents (JPY 0, EUR 2, KWD/BHD 3, CLF 4). */
import currencyCodes from 'currency-codes';
import { ErrorCodes, ValidationError } from './errors.ts';

/** A validated, upper-case ISO 4217 alphabetic code. */
export type CurrencyCode = string & { readonly __brand: 'CurrencyCode' };

const exponents = new Map<string, number>(
  currencyCodes.data
    // Precious metals, test and SDR codes (X..) have no minor unit in ISO 4217 ("N.A."); they are not money here.
    .filter(
      (c) =>
        !c.code.startsWith('X') ||
        c.code === 'XAF' ||
        c.code === 'XOF' ||
        c.code === 'XPF' ||
        c.code === 'XCD',
    )
    .map((c) => [c.code, c.digits]),
);

/** The list's publication date, so an operator can see how current the table is. */
export const currencyTableDate: string = currencyCodes.publishDate;

/** True when `code` is an active ISO 4217 currency Kontor can hold money in. */
export function isCurrencyCode(code: string): code is CurrencyCode {
  return exponents.has(code);
}

/** Validates and brands a currency code; throws UNKNOWN_CURRENCY otherwise. */
export function parseCurrency(code: string): CurrencyCode {
  if (!isCurrencyCode(code)) {
    throw new ValidationError(`unknown currency "${code}": expected an ISO 4217 code such as EUR`, [], {
      code: ErrorCodes.UNKNOWN_CURRENCY,
    });
  }
  return code;
}

/** Number of decimal places of the currency's minor unit. */
export function currencyExponent(code: CurrencyCode): number {
  const e = exponents.get(code);
  if (e === undefined)
    throw new ValidationError(`unknown currency "${code}"`, [], { code: ErrorCodes.UNKNOWN_CURRENCY });
  return e;
}

/** Every currency Kontor knows, sorted. */
export function listCurrencies(): CurrencyCode[] {
  return [...exponents.keys()].sort() as CurrencyCode[];
}

/** IBAN and BIC: validation (ibantools), normal form, and masking for logs. */
import {
  electronicFormatIBAN,
  validateBIC,
  validateIBAN,
  ValidationErrorsBIC,
  ValidationErrorsIBAN,
} from 'ibantools';
import { z } from 'zod';
import { ErrorCodes, ValidationError } from './errors.ts';

/** An IBAN in electronic format (upper case, no spaces) whose check digits are valid. */
export type Iban = string & { readonly __brand: 'Iban' };
/** A BIC (ISO 9362), upper case, 8 or 11 characters. */
export type Bic = string & { readonly __brand: 'Bic' };

const ibanReasons: Record<number, string> = {
  [ValidationErrorsIBAN.NoIBANProvided]: 'no IBAN given',
  [ValidationErrorsIBAN.NoIBANCountry]: 'unknown country code',
  [ValidationErrorsIBAN.WrongBBANLength]: 'wrong length for its country',
  [ValidationErrorsIBAN.WrongBBANFormat]: 'wrong account format for its country',
  [ValidationErrorsIBAN.ChecksumNotNumber]: 'check digits are not a number',
  [ValidationErrorsIBAN.WrongIBANChecksum]: 'check digits do not match (mod 97)',
  [ValidationErrorsIBAN.WrongAccountBankBranchChecksum]: 'national check digits do not match',
  [ValidationErrorsIBAN.QRIBANNotAllowed]: 'QR-IBAN not allowed here',
};

/** Why `input` is not a valid IBAN, or undefined when it is one. */
export function ibanProblem(input: string): string | undefined {
  const electronic = electronicFormatIBAN(input) ?? '';
  const result = validateIBAN(electronic);
  if (result.valid) return undefined;
  return result.errorCodes.map((c) => ibanReasons[c] ?? `error ${c}`).join(', ');
}

/** Normalises (drops spaces, upper-cases) and validates an IBAN; throws INVALID_IBAN naming the reason. */
export function parseIban(input: string): Iban {
  const problem = ibanProblem(input);
  if (problem !== undefined) {
    throw new ValidationError(`invalid IBAN ${maskIban(input)}: ${problem}`, [], {
      code: ErrorCodes.INVALID_IBAN,
    });
  }
  return (electronicFormatIBAN(input) ?? '') as Iban;
}

/** True when `input` is a valid IBAN in any spacing or case. */
export function isIban(input: string): boolean {
  return ibanProblem(input) === undefined;
}

/** Validates a BIC; throws INVALID_BIC. */
export function parseBic(input: string): Bic {
  const bic = input.trim().toUpperCase();
  const result = validateBIC(bic);
  if (!result.valid) {
    const why = result.errorCodes
      .map((c) =>
        c === ValidationErrorsBIC.NoBICCountry
          ? 'unknown country code'
          : c === ValidationErrorsBIC.NoBICProvided
            ? 'no BIC given'
            : 'wrong format',
      )
      .join(', ');
    throw new ValidationError(`invalid BIC "${bic}": ${why}`, [], { code: ErrorCodes.INVALID_BIC });
  }
  return bic as Bic;
}

/**
 * Masks an IBAN for logs and screens: country, check digits and the last four characters stay
 * (DE89************3000), enough to tell accounts apart without exposing the account number.
 */
export function maskIban(input: string): string {
  const s = input.replace(/\s+/g, '').toUpperCase();
  if (s.length <= 8) return '*'.repeat(s.length);
  return `${s.slice(0, 4)}${'*'.repeat(s.length - 8)}${s.slice(-4)}`;
}

/** Runtime schema: a valid IBAN in any spacing, normalised to electronic format. */
export const ibanSchema = z.string().transform((v, ctx): Iban => {
  const problem = ibanProblem(v);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: `invalid IBAN ${maskIban(v)}: ${problem}` });
    return z.NEVER;
  }
  return (electronicFormatIBAN(v) ?? v) as Iban;
});

/** Runtime schema: a valid BIC, upper-cased. */
export const bicSchema = z.string().transform((v, ctx): Bic => {
  try {
    return parseBic(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
    return z.NEVER;
  }
});

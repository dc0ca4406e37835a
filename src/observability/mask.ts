/**
 * Last line of defence for logs: masks IBANs, Kontor API keys, JWTs and bearer credentials in
 * every serialised log line, wherever they hide (messages, URLs, error texts).
 */
import { maskIban } from '../domain/index.ts';

// An IBAN in electronic or printed form: country, check digits, 11–30 alphanumerics (ISO 13616).
const IBAN = /\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b/g;
const API_KEY = /\bkontor_[A-Za-z0-9_-]{20,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const BEARER = /(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

/** Masks IBANs (keeping country, check digits and the last four) and credentials in a text. */
export function maskSensitiveText(text: string): string {
  return text
    .replace(API_KEY, 'kontor_[redacted]')
    .replace(JWT, '[redacted-jwt]')
    .replace(BEARER, '$1 [redacted]')
    .replace(IBAN, (m) => maskIban(m));
}

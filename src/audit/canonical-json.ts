/**
 * Canonical JSON (after RFC 8785): object keys sorted, no whitespace, `undefined` members
 * dropped, bigint as a decimal string and Date as ISO 8601, so one value has one digest.
 */
import { createHash } from 'node:crypto';

function normalise(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : normalise(v)));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalise(v);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** Serialises a value to canonical JSON. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value));
}

/** SHA-256 (hex) of a string. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SHA-256 (hex) of a value's canonical JSON: the digest of a before/after state. */
export function digestOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** Canonical JSON of statements: bigint amounts as exact decimal strings, keys in a stable order. */
import { type Money, type Statement, formatMoney } from '../domain/index.ts';

function isMoney(value: unknown): value is Money {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Money).amount === 'bigint' &&
    typeof (value as Money).currency === 'string'
  );
}

/** Turns a statement (or anything holding Money) into plain JSON values with decimal-string amounts. */
export function toCanonicalValue(value: unknown): unknown {
  if (isMoney(value)) return { amount: formatMoney(value), currency: value.currency };
  if (Array.isArray(value)) return value.map(toCanonicalValue);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = toCanonicalValue(v);
    }
    return out;
  }
  return value;
}

/** Serialises statements as canonical, pretty-printed JSON. */
export function formatStatementsJson(statements: readonly Statement[]): string {
  return `${JSON.stringify(toCanonicalValue(statements), null, 2)}\n`;
}

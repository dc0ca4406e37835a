/**
 * The stable identity of a statement entry within its bank account, so that the same booking
 * reported twice (camt.052 intraday, then camt.053 end of day; overlapping MT940 periods) is
 * imported once.
 */
import { createHash } from 'node:crypto';
import type { StatementLine } from '../../domain/index.ts';

/** Keys every line of one statement; identical unreferenced lines are told apart by their order. */
export function assignEntryKeys(lines: readonly StatementLine[]): string[] {
  const seen = new Map<string, number>();
  return lines.map((line) => {
    // The bank's own reference is unique per account (ISO 20022 AcctSvcrRef; MT940 :61: bank ref).
    if (
      line.accountServicerRef !== undefined &&
      line.accountServicerRef !== '' &&
      line.accountServicerRef.toUpperCase() !== 'NONREF'
    ) {
      return `ref:${line.accountServicerRef}`;
    }
    const base = createHash('sha256')
      .update(
        [
          line.bookingDate,
          line.valueDate ?? '',
          line.amount.amount.toString(),
          line.amount.currency,
          line.endToEndId ?? '',
          line.counterparty?.iban ?? line.counterparty?.accountNumber ?? '',
          line.creditorReference ?? '',
          line.remittanceInfo ?? '',
        ].join('\u001f'),
      )
      .digest('hex')
      .slice(0, 32);
    // Two identical bookings on one day (two equal card fees) are two entries: number them.
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return `h:${base}:${n}`;
  });
}

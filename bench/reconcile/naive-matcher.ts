/** The baseline: a pairwise matcher that compares every line with every open item, as a simple script would. */
import { normaliseReference, type BankLine, type OpenItem } from '../../src/flows/reconciliation/index.ts';

/** Line id → matched item ids; a line is matched only when exactly one item qualifies. */
export type NaiveResult = Map<string, string[]>;

/**
 * For each line, scans all items: a normalised number or payment reference found in the texts
 * wins; otherwise the partner (by IBAN) and the exact amount must agree. O(lines × items).
 */
export function matchPairwise(
  lines: readonly BankLine[],
  items: readonly OpenItem[],
  partnerByIban: ReadonlyMap<string, string>,
): NaiveResult {
  const out: NaiveResult = new Map();
  // Normalised once, so the baseline pays only for its pairwise loop, not for repeated string work.
  const keys = items.map((item) => ({
    number: normaliseReference(item.number),
    ref: item.paymentReference === undefined ? '' : normaliseReference(item.paymentReference),
    sign: item.kind === 'customer_invoice' || item.kind === 'vendor_credit_note' ? 1n : -1n,
  }));
  for (const line of lines) {
    const text = normaliseReference(
      `${line.remittanceInfo ?? ''} ${line.creditorReference ?? ''} ${line.endToEndId ?? ''}`,
    );
    const partner =
      line.counterparty?.iban === undefined ? undefined : partnerByIban.get(line.counterparty.iban);
    const byRef: string[] = [];
    const byAmount: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const { number, ref, sign } = keys[i]!;
      if (item.entityId !== line.entityId) continue;
      if ((text.length > 0 && text.includes(number)) || (ref.length > 4 && text.includes(ref))) {
        byRef.push(item.id);
        continue;
      }
      if (
        partner === item.partnerId &&
        item.residual.currency === line.amount.currency &&
        sign * item.residual.amount === line.amount.amount
      ) {
        byAmount.push(item.id);
      }
    }
    const chosen = byRef.length === 1 ? byRef : byRef.length === 0 && byAmount.length === 1 ? byAmount : [];
    if (chosen.length > 0) out.set(line.id, chosen);
  }
  return out;
}

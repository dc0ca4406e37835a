/** The index over open items, built once per run: by normalised reference, by RF body, by partner and by amount. */
import {
  MIN_REFERENCE_LENGTH,
  hasValidRfCheckDigits,
  isRfShaped,
  normaliseReference,
  rfBody,
} from './reference.ts';
import type { OpenItem } from './types.ts';

/** An open item with what the engine computes about it once. */
export interface IndexedItem {
  /** Position in the run's arrays (remaining residuals). */
  readonly ordinal: number;
  readonly item: OpenItem;
  /** The residual signed like the bank line that pays it: + for money in, − for money out. */
  readonly residual: bigint;
  readonly currency: string;
  /** The due date as a day number, for date proximity. */
  readonly dueDay: number;
}

/** How a reference key points at an item. */
export interface ReferenceHit {
  readonly entry: IndexedItem;
  readonly via: 'rf' | 'payment-reference' | 'number';
}

/** The maps the rules look candidates up in; no rule ever scans all items. */
export interface OpenItemIndex {
  readonly entries: readonly IndexedItem[];
  readonly byReference: ReadonlyMap<string, readonly ReferenceHit[]>;
  readonly byRfBody: ReadonlyMap<string, readonly IndexedItem[]>;
  /** Per partner, nearest due date first. */
  readonly byPartner: ReadonlyMap<string, readonly IndexedItem[]>;
  readonly byAmount: ReadonlyMap<string, readonly IndexedItem[]>;
}

/** Direction of the bank line that settles an item: customers pay invoices in, credit notes go out. */
export function directionOf(kind: OpenItem['kind']): 1n | -1n {
  return kind === 'customer_invoice' || kind === 'vendor_credit_note' ? 1n : -1n;
}

/** Day number of an ISO date (YYYY-MM-DD), for distances between dates without a clock. */
export function toDayNumber(isoDate: string): number {
  return Math.floor(Date.parse(`${isoDate.slice(0, 10)}T00:00:00Z`) / 86_400_000);
}

/** Key of the reference map: entity and normalised reference, so one company never matches another's items. */
export const referenceKey = (entityId: string, normalised: string): string =>
  `${entityId}\u0000${normalised}`;
/** Key of the partner map. */
export const partnerKey = (entityId: string, partnerId: string): string => `${entityId}\u0000${partnerId}`;
/** Key of the amount map: entity, currency and signed minor units. */
export const amountKey = (entityId: string, currency: string, amount: bigint): string =>
  `${entityId}\u0000${currency}\u0000${amount}`;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** Builds the index over open items; items with nothing left open are left out. */
export function buildOpenItemIndex(items: readonly OpenItem[]): OpenItemIndex {
  const entries: IndexedItem[] = [];
  const byReference = new Map<string, ReferenceHit[]>();
  const byRfBody = new Map<string, IndexedItem[]>();
  const byPartner = new Map<string, IndexedItem[]>();
  const byAmount = new Map<string, IndexedItem[]>();
  for (const item of items) {
    const abs = item.residual.amount < 0n ? -item.residual.amount : item.residual.amount;
    if (abs === 0n) continue;
    const entry: IndexedItem = {
      ordinal: entries.length,
      item,
      residual: directionOf(item.kind) * abs,
      currency: item.residual.currency,
      dueDay: toDayNumber(item.dueDate),
    };
    entries.push(entry);
    const number = normaliseReference(item.number);
    if (number.length >= MIN_REFERENCE_LENGTH)
      push(byReference, referenceKey(item.entityId, number), { entry, via: 'number' });
    if (item.paymentReference !== undefined) {
      const ref = normaliseReference(item.paymentReference);
      if (ref.length >= MIN_REFERENCE_LENGTH && ref !== number) {
        const rf = isRfShaped(ref);
        // An RF reference with wrong check digits is not a structured reference: keep it as plain text.
        const via = rf && hasValidRfCheckDigits(ref) ? 'rf' : 'payment-reference';
        push(byReference, referenceKey(item.entityId, ref), { entry, via });
        if (via === 'rf') push(byRfBody, referenceKey(item.entityId, rfBody(ref)), entry);
      }
    }
    push(byPartner, partnerKey(item.entityId, item.partnerId), entry);
    push(byAmount, amountKey(item.entityId, entry.currency, entry.residual), entry);
  }
  for (const list of byPartner.values()) list.sort((a, b) => a.dueDay - b.dueDay || a.ordinal - b.ordinal);
  return { entries, byReference, byRfBody, byPartner, byAmount };
}

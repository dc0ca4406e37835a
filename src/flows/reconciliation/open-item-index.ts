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

/** The maps of one entity (company); one company never matches another's items. */
export interface EntityIndex {
  /** Normalised reference → items. */
  readonly byReference: Map<string, ReferenceHit[]>;
  /** Body of a valid RF reference → items, to recognise a reference whose check digits were mistyped. */
  readonly byRfBody: Map<string, IndexedItem[]>;
  /** Partner id → items, nearest due date first. */
  readonly byPartner: Map<string, IndexedItem[]>;
  /** Currency → signed residual → items; built on first use, as only weak-evidence lines need it. */
  byAmount: Map<string, Map<bigint, IndexedItem[]>> | undefined;
  readonly entries: IndexedItem[];
  /** Longest normalised reference key, so a line's text is not split into longer candidates. */
  maxKeyLength: number;
  /** Lengths that occur among reference keys (and RF bodies): most words of a text are skipped without a lookup. */
  readonly keyLengths: Uint8Array;
  readonly bodyLengths: Uint8Array;
}

/** The maps the rules look candidates up in; no rule ever scans all items. */
export interface OpenItemIndex {
  readonly entries: readonly IndexedItem[];
  readonly byEntity: ReadonlyMap<string, EntityIndex>;
}

/** Direction of the bank line that settles an item: customers pay invoices in, credit notes go out. */
export function directionOf(kind: OpenItem['kind']): 1n | -1n {
  return kind === 'customer_invoice' || kind === 'vendor_credit_note' ? 1n : -1n;
}

/** Day number of an ISO date (YYYY-MM-DD), for distances between dates without a clock. */
export function toDayNumber(isoDate: string): number {
  // Parsed by hand: this runs once per line and per item, and Date.parse was a visible cost.
  const y = Number(isoDate.slice(0, 4));
  const m = Number(isoDate.slice(5, 7));
  const d = Number(isoDate.slice(8, 10));
  // Days from civil (H. Hinnant's algorithm), proleptic Gregorian, 1970-01-01 = 0.
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

// Keys longer than this share one length slot; they are still looked up.
const MAX_KEY = 64;

/** True when a candidate of this length can be a reference key of the entity. */
export function isKeyLength(lengths: Uint8Array, length: number): boolean {
  return lengths[Math.min(MAX_KEY, length)] === 1;
}

function entityIndex(byEntity: Map<string, EntityIndex>, entityId: string): EntityIndex {
  let index = byEntity.get(entityId);
  if (index === undefined) {
    index = {
      byReference: new Map(),
      byRfBody: new Map(),
      byPartner: new Map(),
      byAmount: undefined,
      entries: [],
      maxKeyLength: 0,
      keyLengths: new Uint8Array(MAX_KEY + 1),
      bodyLengths: new Uint8Array(MAX_KEY + 1),
    };
    byEntity.set(entityId, index);
  }
  return index;
}

/** Builds the index over open items; items with nothing left open are left out. */
export function buildOpenItemIndex(items: readonly OpenItem[]): OpenItemIndex {
  const entries: IndexedItem[] = [];
  const byEntity = new Map<string, EntityIndex>();
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
    const index = entityIndex(byEntity, item.entityId);
    index.entries.push(entry);
    const number = normaliseReference(item.number);
    if (number.length >= MIN_REFERENCE_LENGTH) {
      push(index.byReference, number, { entry, via: 'number' });
      index.maxKeyLength = Math.max(index.maxKeyLength, number.length);
      index.keyLengths[Math.min(MAX_KEY, number.length)] = 1;
    }
    if (item.paymentReference !== undefined) {
      const ref = normaliseReference(item.paymentReference);
      if (ref.length >= MIN_REFERENCE_LENGTH && ref !== number) {
        // An RF reference with wrong check digits is not a structured reference: keep it as plain text.
        const via = isRfShaped(ref) && hasValidRfCheckDigits(ref) ? 'rf' : 'payment-reference';
        push(index.byReference, ref, { entry, via });
        index.maxKeyLength = Math.max(index.maxKeyLength, ref.length);
        index.keyLengths[Math.min(MAX_KEY, ref.length)] = 1;
        if (via === 'rf') {
          push(index.byRfBody, rfBody(ref), entry);
          index.bodyLengths[Math.min(MAX_KEY, ref.length - 4)] = 1;
        }
      }
    }
    push(index.byPartner, item.partnerId, entry);
  }
  for (const index of byEntity.values()) {
    for (const list of index.byPartner.values())
      list.sort((a, b) => a.dueDay - b.dueDay || a.ordinal - b.ordinal);
  }
  return { entries, byEntity };
}

/** The entity's items whose original signed residual is `amount` in `currency`. */
export function findByAmount(index: EntityIndex, currency: string, amount: bigint): readonly IndexedItem[] {
  if (index.byAmount === undefined) {
    const byAmount = new Map<string, Map<bigint, IndexedItem[]>>();
    for (const entry of index.entries) {
      let amounts = byAmount.get(entry.currency);
      if (amounts === undefined) byAmount.set(entry.currency, (amounts = new Map()));
      push(amounts, entry.residual, entry);
    }
    index.byAmount = byAmount;
  }
  return index.byAmount.get(currency)?.get(amount) ?? [];
}

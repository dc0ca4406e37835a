/** Generates realistic bank lines and open items with the true match of every line known. */
import { money } from '../../src/domain/index.ts';
import { createRfReference, type BankLine, type OpenItem } from '../../src/flows/reconciliation/index.ts';

/** What the generator makes. */
export interface Dataset {
  readonly lines: BankLine[];
  readonly items: OpenItem[];
  readonly partnerByIban: Map<string, string>;
  readonly rates: Record<string, string>;
  /** Line id → the item ids that line truly pays (empty: nothing in the books matches it). */
  readonly truth: Map<string, string[]>;
  /** Line id → the scenario that made it, to break results down. */
  readonly scenario: Map<string, string>;
}

/** A small fast seeded PRNG (mulberry32), so every run sees the same data. */
function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mod97(digits: string): number {
  let r = 0;
  for (const ch of digits) {
    const c = ch.charCodeAt(0);
    r = c >= 65 ? (r * 100 + (c - 55)) % 97 : (r * 10 + (c - 48)) % 97;
  }
  return r;
}

function createIban(n: number): string {
  const bban = String(37040044).padStart(8, '0') + String(n).padStart(10, '0');
  const check = 98 - mod97(`${bban}DE00`);
  return `DE${String(check).padStart(2, '0')}${bban}`;
}

const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;
// Provided rates: line currency → item currency, as a treasury would publish them.
const RATES: Record<string, string> = {
  'USD/EUR': '0.9200',
  'GBP/EUR': '1.1700',
  'EUR/USD': '1.0870',
  'EUR/GBP': '0.8547',
};
const RATE_MILLI: Record<string, bigint> = { USD: 920n, GBP: 1170n };

function isoDay(day: number): string {
  return new Date(Date.UTC(2026, 0, 1 + day)).toISOString().slice(0, 10);
}

/** Options of {@link generateDataset}. */
export interface GenerateOptions {
  readonly lines: number;
  readonly items: number;
  readonly seed: number;
}

/**
 * Generates `items` open items over items/5 partners and `lines` bank lines: full payments by
 * reference or by IBAN only, 5% partial payments, 2% combined payments (credit notes netted),
 * 1% mistyped references, fees, 3% foreign currency, look-alike and twin amounts, 3% noise.
 */
export function generateDataset(options: GenerateOptions): Dataset {
  const rnd = createRandom(options.seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;

  const partnerCount = Math.max(2, Math.floor(options.items / 5));
  const partnerByIban = new Map<string, string>();
  const partnerIban: string[] = [];
  const partnerCurrency: string[] = [];
  for (let p = 0; p < partnerCount; p++) {
    const iban = createIban(p + 1);
    partnerIban.push(iban);
    partnerByIban.set(iban, `P${p}`);
    const r = rnd();
    partnerCurrency.push(r < 0.7 ? 'EUR' : r < 0.9 ? 'USD' : 'GBP');
  }

  const items: OpenItem[] = [];
  const byPartner: number[][] = Array.from({ length: partnerCount }, () => []);
  for (let i = 0; i < options.items; i++) {
    const p = int(0, partnerCount - 1);
    const currency = partnerCurrency[p]!;
    const k = rnd();
    const kind = k < 0.85 ? 'customer_invoice' : k < 0.95 ? 'vendor_bill' : 'customer_credit_note';
    const siblings = byPartner[p]!;
    let amount: bigint;
    const look = rnd();
    const sibling = siblings.length > 0 ? items[pick(siblings)]! : undefined;
    if (sibling !== undefined && sibling.kind === kind && look < 0.005) {
      amount = sibling.amount.amount; // a twin: same partner, same amount
    } else if (sibling !== undefined && sibling.kind === kind && look < 0.04) {
      amount = sibling.amount.amount + BigInt(pick([-1, 1]) * int(1, 99)); // a look-alike, a few cents off
    } else {
      // Log-uniform 20.00 … 20,000.00, credit notes smaller.
      const major =
        Math.exp(Math.log(20) + rnd() * Math.log(1000)) * (kind === 'customer_credit_note' ? 0.2 : 1);
      amount = BigInt(Math.max(100, Math.round(major * 100)));
    }
    const prefix = kind === 'customer_invoice' ? 'INV' : kind === 'vendor_bill' ? 'BILL' : 'RINV';
    const number = `${prefix}/2026/${String(i + 1).padStart(6, '0')}`;
    const r = rnd();
    const paymentReference =
      kind === 'vendor_bill'
        ? `VB-${int(100000, 999999)}-${i}`
        : r < 0.4
          ? createRfReference(`${i + 1}${p}`)
          : number;
    // 5% already partly paid before this statement.
    const residual = rnd() < 0.05 ? amount - amount / BigInt(int(2, 5)) : amount;
    const dueDay = int(0, 89);
    items.push({
      id: `I${i}`,
      entityId: 'E1',
      number,
      kind,
      partnerId: `P${p}`,
      amount: money(amount, currency),
      residual: money(residual, currency),
      dueDate: isoDay(dueDay),
      paymentReference,
    });
    siblings.push(i);
  }

  // Items are paid in a random order; each at most once (a partial payment may take two lines).
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const used = new Uint8Array(items.length);
  let cursor = 0;
  const nextFree = (accept: (it: OpenItem) => boolean): number | undefined => {
    for (let tries = 0; cursor < order.length && tries < 50; tries++) {
      const i = order[cursor++]!;
      if (used[i] || !accept(items[i]!)) continue;
      return i;
    }
    return undefined;
  };
  const signOf = (it: OpenItem): bigint => (it.kind === 'customer_invoice' ? 1n : -1n);

  const lines: BankLine[] = [];
  const truth = new Map<string, string[]>();
  const scenario = new Map<string, string>();
  const refText = (it: OpenItem): { remittanceInfo?: string; creditorReference?: string } => {
    const ref = it.paymentReference ?? it.number;
    if (ref.startsWith('RF')) {
      return rnd() < 0.5
        ? { creditorReference: ref }
        : { remittanceInfo: `Payment ${ref.replace(/(.{4})(?=.)/g, '$1 ')} customer ${it.partnerId}` };
    }
    return {
      remittanceInfo: pick([
        `Invoice ${ref}`,
        `${ref.toLowerCase()} thank you`,
        `REF ${ref.replace(/\//g, ' ')}`,
        ref,
      ]),
    };
  };
  const typo = (text: string): string => {
    const digits = [...text].map((c, i) => (c >= '0' && c <= '9' ? i : -1)).filter((i) => i >= 0);
    const at = pick(digits);
    const old = text.charCodeAt(at) - 48;
    return text.slice(0, at) + String((old + int(1, 9)) % 10) + text.slice(at + 1);
  };
  const push = (line: BankLine, paid: string[], kind: string): void => {
    lines.push(line);
    truth.set(line.id, paid);
    scenario.set(line.id, kind);
  };
  const base = (n: number, it: OpenItem | undefined, amount: bigint, currency: string): BankLine => ({
    id: `L${n}`,
    accountId: `ACC-${currency}`,
    entityId: 'E1',
    bookingDate: isoDay(
      it === undefined
        ? int(0, 89)
        : Math.min(119, Math.max(0, Math.round(Date.parse(it.dueDate) / 86_400_000 - 20454) + int(-10, 20))),
    ),
    amount: money(amount, currency),
  });

  let n = 0;
  while (lines.length < options.lines) {
    // When every item is spoken for (lines ≈ items), the rest of the statement is noise.
    const s = cursor >= order.length ? 0 : rnd();
    const id = n++;
    if (s < 0.03) {
      // Noise: a line nothing in the books explains (bank interest, a stranger's payment).
      const amount = BigInt(int(100, 500_000)) * (rnd() < 0.7 ? 1n : -1n);
      push(
        {
          ...base(id, undefined, amount, pick(CURRENCIES)),
          counterparty: { iban: createIban(10_000_000 + id) as never },
          remittanceInfo: pick(['Interest Q1', 'Transfer', `Order ${int(1000, 9999)}`, 'Refund']),
        },
        [],
        'noise',
      );
      continue;
    }
    if (s < 0.08) {
      // Partial payment by reference; half of them are completed by a second line.
      const i = nextFree((it) => it.kind === 'customer_invoice' && it.residual.amount > 1000n);
      if (i === undefined) continue;
      used[i] = 1;
      const it = items[i]!;
      const first = (it.residual.amount * BigInt(int(30, 70))) / 100n;
      const common = {
        counterparty: { iban: partnerIban[Number(it.partnerId.slice(1))] as never },
        ...refText(it),
      };
      push({ ...base(id, it, first, it.residual.currency), ...common }, [it.id], 'partial');
      if (rnd() < 0.5 && lines.length < options.lines) {
        push(
          { ...base(n++, it, it.residual.amount - first, it.residual.currency), ...common },
          [it.id],
          'partial-rest',
        );
      }
      continue;
    }
    if (s < 0.1) {
      // Combined payment of 2–4 items of one partner, credit notes netted; half quote the numbers.
      const i = nextFree((it) => it.kind === 'customer_invoice');
      if (i === undefined) continue;
      const it = items[i]!;
      const p = Number(it.partnerId.slice(1));
      const others = byPartner[p]!.filter(
        (j) =>
          j !== i &&
          !used[j] &&
          items[j]!.kind !== 'vendor_bill' &&
          items[j]!.residual.currency === it.residual.currency,
      );
      const chosen = [i, ...others.slice(0, int(1, 3))];
      const total = chosen.reduce((t, j) => t + signOf(items[j]!) * items[j]!.residual.amount, 0n);
      if (chosen.length < 2 || total <= 0n) {
        used[i] = 1;
        push(
          {
            ...base(id, it, it.residual.amount, it.residual.currency),
            counterparty: { iban: partnerIban[p] as never },
          },
          [it.id],
          'full-iban',
        );
        continue;
      }
      for (const j of chosen) used[j] = 1;
      const quote =
        rnd() < 0.5 ? { remittanceInfo: `Invoices ${chosen.map((j) => items[j]!.number).join(', ')}` } : {};
      push(
        {
          ...base(id, it, total, it.residual.currency),
          counterparty: { iban: partnerIban[p] as never },
          ...quote,
        },
        chosen.map((j) => items[j]!.id),
        'combined',
      );
      continue;
    }
    const i = nextFree((it) => it.kind !== 'customer_credit_note');
    if (i === undefined) continue;
    used[i] = 1;
    const it = items[i]!;
    const p = Number(it.partnerId.slice(1));
    const sign = signOf(it);
    const counterparty = { iban: partnerIban[p] as never };
    if (s < 0.11) {
      // A mistyped reference: one digit wrong.
      const ref = it.paymentReference ?? it.number;
      push(
        {
          ...base(id, it, sign * it.residual.amount, it.residual.currency),
          counterparty,
          remittanceInfo: typo(ref),
        },
        [it.id],
        'typo',
      );
      continue;
    }
    if (s < 0.14 && it.residual.currency !== 'EUR') {
      // Foreign currency: a EUR account receives a USD/GBP invoice's payment.
      const rate = RATE_MILLI[it.residual.currency]!;
      const instructed = rnd() < 0.7;
      // The bank's own rate differs from the provided one by up to 0.3%.
      const bankRate = instructed ? rate : (rate * BigInt(10_000 + int(-30, 30))) / 10_000n;
      const eur = (it.residual.amount * bankRate + 500n) / 1000n;
      push(
        {
          ...base(id, it, sign * eur, 'EUR'),
          counterparty,
          ...(rnd() < 0.7 ? refText(it) : {}),
          ...(instructed ? { instructedAmount: money(it.residual.amount, it.residual.currency) } : {}),
        },
        [it.id],
        instructed ? 'fx-instructed' : 'fx-rate',
      );
      continue;
    }
    if (s < 0.18) {
      // Bank charges deducted on the way.
      const fee = BigInt(int(50, 499));
      const amount = sign * (it.residual.amount > fee * 4n ? it.residual.amount - fee : it.residual.amount);
      push(
        { ...base(id, it, amount, it.residual.currency), counterparty, ...(rnd() < 0.6 ? refText(it) : {}) },
        [it.id],
        'fee',
      );
      continue;
    }
    // A full payment: two thirds quote a reference; nearly all come from a known IBAN.
    const withRef = rnd() < 0.65;
    const withIban = !withRef || rnd() < 0.9;
    push(
      {
        ...base(id, it, sign * it.residual.amount, it.residual.currency),
        ...(withIban ? { counterparty } : {}),
        ...(withRef ? refText(it) : {}),
      },
      [it.id],
      withRef ? 'full-ref' : 'full-iban',
    );
  }
  return { lines, items, partnerByIban, rates: RATES, truth, scenario };
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { money } from '../../domain/index.ts';
import { createDefaultRules, createRfReference, matchLines, resolveToleranceMinor } from './index.ts';
import type { BankLine, MatchContext, OpenItem } from './index.ts';

const partners = ['p1', 'p2', 'p3'];
const ibans = ['DE89370400440532013000', 'DE02120300000000202051', 'GB29NWBK60161331926819'];
const kinds = ['customer_invoice', 'customer_credit_note', 'vendor_bill', 'vendor_credit_note'] as const;
const currencies = ['EUR', 'USD'];

// Small amounts from a small range make collisions, twins and accidental subset sums common,
// which is exactly where an engine would over-allocate or unbalance.
const itemArb = fc.record({
  partner: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom(...kinds),
  currency: fc.constantFrom(...currencies),
  amount: fc.integer({ min: 1, max: 40 }).map((n) => BigInt(n * 250)),
  paidPart: fc.integer({ min: 0, max: 3 }),
  rf: fc.boolean(),
  due: fc.integer({ min: 1, max: 28 }),
});

const lineArb = fc.record({
  target: fc.nat(),
  mode: fc.constantFrom('exact', 'partial', 'fee', 'pair', 'random', 'fx', 'instructed', 'badref'),
  noise: fc.integer({ min: -600, max: 600 }),
  withRef: fc.boolean(),
  withIban: fc.boolean(),
  partner: fc.integer({ min: 0, max: 2 }),
});

type ItemRaw = typeof itemArb extends fc.Arbitrary<infer T> ? T : never;
type LineRaw = typeof lineArb extends fc.Arbitrary<infer T> ? T : never;

function buildItems(raw: ItemRaw[]): OpenItem[] {
  return raw.map((r, i) => {
    const id = String(i + 1);
    const residual = r.amount - (r.amount * BigInt(r.paidPart)) / 4n;
    return {
      id,
      entityId: 'e1',
      number: `INV/2026/${id.padStart(5, '0')}`,
      kind: r.kind,
      partnerId: partners[r.partner]!,
      amount: money(r.amount, r.currency),
      residual: money(residual, r.currency),
      dueDate: `2026-02-${String(r.due).padStart(2, '0')}`,
      ...(r.rf ? { paymentReference: createRfReference(`K${id}X`) } : {}),
    };
  });
}

function buildLines(raw: LineRaw[], items: OpenItem[]): BankLine[] {
  return raw.map((r, i) => {
    const item = items[r.target % items.length]!;
    const other = items[(r.target + 1) % items.length]!;
    const sign = item.kind === 'customer_invoice' || item.kind === 'vendor_credit_note' ? 1n : -1n;
    let amount = sign * item.residual.amount;
    let currency: string = item.residual.currency;
    let instructed: BankLine['instructedAmount'];
    if (r.mode === 'partial') amount = amount / 2n;
    if (r.mode === 'fee') amount -= sign * BigInt(Math.abs(r.noise));
    if (r.mode === 'pair' && other.residual.currency === currency) amount += sign * other.residual.amount;
    if (r.mode === 'random') amount = BigInt(r.noise * 7);
    if (r.mode === 'fx') {
      currency = currency === 'EUR' ? 'USD' : 'EUR';
      amount = (amount * 9n) / 10n + BigInt(r.noise);
    }
    if (r.mode === 'instructed') {
      instructed = money(amount < 0n ? -amount : amount, currency);
      currency = currency === 'EUR' ? 'USD' : 'EUR';
      amount = (amount * 11n) / 10n;
    }
    if (amount === 0n) amount = 1n;
    const ref = r.mode === 'badref' ? item.paymentReference?.replace(/^RF(\d)/, 'RF0') : item.number;
    return {
      id: `l${i}`,
      accountId: 'a1',
      entityId: 'e1',
      bookingDate: '2026-03-01',
      amount: money(amount, currency),
      ...(r.withRef && ref !== undefined ? { remittanceInfo: `pay ${ref}` } : {}),
      ...(r.withIban ? { counterparty: { iban: ibans[r.partner] as never } } : {}),
      ...(instructed ? { instructedAmount: instructed } : {}),
    };
  });
}

const context: MatchContext = {
  partnerByIban: new Map(ibans.map((iban, i) => [iban, partners[i]!])),
  rates: { 'EUR/USD': '1.1', 'USD/EUR': '0.9' },
};

const scenario = fc
  .array(itemArb, { minLength: 1, maxLength: 25 })
  .chain((items) =>
    fc.tuple(fc.constant(buildItems(items)), fc.array(lineArb, { minLength: 1, maxLength: 25 })),
  )
  .map(([items, lines]) => ({ items, lines: buildLines(lines, items) }));

describe('matchLines properties', () => {
  it('never proposes a match whose amounts do not add up within tolerance', () => {
    const rules = createDefaultRules();
    fc.assert(
      fc.property(scenario, ({ items, lines }) => {
        for (const p of matchLines({ lines, openItems: items, rules, context })) {
          if (p.status === 'exception') {
            assert.equal(p.allocations.length, 0);
            continue;
          }
          const currency = p.lineAmount.currency;
          let total = p.writeOff?.amount.amount ?? 0n;
          for (const a of p.allocations) {
            assert.equal(a.amount.currency, currency);
            total += a.amount.amount;
          }
          assert.equal(total, p.lineAmount.amount, p.explanation);
          const writeOff = p.writeOff?.amount.amount ?? 0n;
          const fxSlack =
            p.writeOff?.kind === 'fx-difference'
              ? ((p.lineAmount.amount < 0n ? -p.lineAmount.amount : p.lineAmount.amount) * 50n) / 10_000n
              : 0n;
          assert.ok(
            (writeOff < 0n ? -writeOff : writeOff) <= resolveToleranceMinor(rules, currency) + fxSlack,
            p.explanation,
          );
          assert.equal(p.status === 'auto', p.confidence >= rules.autoThreshold);
        }
      }),
      { numRuns: 300, seed: 20260310 },
    );
  });

  it('never allocates an item more than its residual across the proposals of one run', () => {
    fc.assert(
      fc.property(scenario, ({ items, lines }) => {
        const byId = new Map(items.map((i) => [i.id, i]));
        const used = new Map<string, bigint>();
        for (const p of matchLines({ lines, openItems: items, rules: createDefaultRules(), context })) {
          for (const a of p.allocations) {
            const item = byId.get(a.itemId)!;
            const sign = item.kind === 'customer_invoice' || item.kind === 'vendor_credit_note' ? 1n : -1n;
            // Allocations are signed like the bank line, i.e. in the item's settling direction.
            assert.ok(a.amount.amount * sign > 0n, `allocation against ${item.number} has the wrong sign`);
            used.set(a.itemId, (used.get(a.itemId) ?? 0n) + a.amount.amount * sign);
          }
        }
        for (const [id, total] of used) {
          const residual = byId.get(id)!.residual.amount;
          assert.ok(
            total <= (residual < 0n ? -residual : residual),
            `item ${id} over-allocated: ${total} > ${residual}`,
          );
        }
      }),
      { numRuns: 300, seed: 20260311 },
    );
  });
});

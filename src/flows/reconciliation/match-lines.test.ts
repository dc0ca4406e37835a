import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMoney } from '../../domain/index.ts';
import { createItem, createLine } from './__fixtures__/builders.ts';
import { createDefaultRules, createRfReference, matchLines, reconciliationRulesSchema } from './index.ts';
import type { BankLine, MatchContext, MatchProposal, OpenItem } from './index.ts';

const IBAN_P1 = 'DE89370400440532013000';
const IBAN_P2 = 'DE02120300000000202051';
const context: MatchContext = {
  partnerByIban: new Map([
    [IBAN_P1, 'p1'],
    [IBAN_P2, 'p2'],
  ]),
};

function run(lines: BankLine[], items: OpenItem[], ctx: MatchContext = context): MatchProposal[] {
  return matchLines({ lines, openItems: items, rules: createDefaultRules(), context: ctx });
}

function one(line: BankLine, items: OpenItem[], ctx: MatchContext = context): MatchProposal {
  const [p] = run([line], items, ctx);
  assert.ok(p);
  return p;
}

const allocated = (p: MatchProposal): [string, string][] =>
  p.allocations.map((a) => [a.itemId, formatMoney(a.amount)]);

describe('matchLines: exact reference', () => {
  it('auto-matches a valid RF creditor reference with an equal amount and explains it', () => {
    const items = [
      createItem('42', '100.00', { paymentReference: 'RF18 5390 0754 7034', number: 'INV/2026/0042' }),
    ];
    const p = one(createLine('l1', '100.00', { creditorReference: 'RF18539007547034' }), items);
    assert.equal(p.status, 'auto');
    assert.deepEqual(allocated(p), [['42', '100.00']]);
    assert.equal(p.explanation, 'RF18 5390 0754 7034 matched invoice INV/2026/0042; amount equal');
  });

  it('finds an RF reference split over groups in the remittance text, in any case', () => {
    const items = [createItem('42', '100.00', { paymentReference: 'RF18539007547034' })];
    const p = one(
      createLine('l1', '100.00', { remittanceInfo: 'payment rf18 5390 0754 7034 thanks' }),
      items,
    );
    assert.equal(p.status, 'auto');
    assert.equal(p.rule, 'reference');
  });

  it('does not match exactly an RF reference with a wrong check digit', () => {
    const items = [createItem('42', '100.00', { paymentReference: 'RF18539007547034' })];
    const p = one(createLine('l1', '100.00', { remittanceInfo: 'RF19 5390 0754 7034' }), items);
    assert.notEqual(p.status, 'auto');
    assert.equal(p.reason, 'REFERENCE_CHECK_FAILED');
    assert.match(p.explanation, /wrong check digits/);
  });

  it('matches the invoice number normalised for spaces, case and punctuation', () => {
    const items = [createItem('42', '250.00'), createItem('43', '250.00')];
    const p = one(createLine('l1', '250.00', { remittanceInfo: 'inv 2026-0043' }), items);
    assert.equal(p.status, 'auto');
    assert.deepEqual(allocated(p), [['43', '250.00']]);
    assert.match(p.explanation, /number INV\/2026\/0043 matched invoice INV\/2026\/0043; amount equal/);
  });

  it('matches the payment reference carried in the end-to-end id', () => {
    const items = [createItem('7', '80.00', { paymentReference: 'ORDER-77812' })];
    const p = one(createLine('l1', '80.00', { endToEndId: 'ORDER77812' }), items);
    assert.equal(p.status, 'auto');
  });

  it('never matches an item of another entity', () => {
    const items = [createItem('42', '100.00', { entityId: 'e2' })];
    const p = one(createLine('l1', '100.00', { remittanceInfo: 'INV/2026/0042' }), items);
    assert.equal(p.status, 'exception');
    assert.equal(p.reason, 'NO_CANDIDATE');
  });

  it('does not auto-match a reference whose invoice belongs to another partner than the IBAN', () => {
    const items = [createItem('42', '100.00', { partnerId: 'p2' })];
    const p = one(createLine('l1', '100.00', { remittanceInfo: 'INV/2026/0042', iban: IBAN_P1 }), items);
    assert.equal(p.status, 'proposal');
    assert.equal(p.reason, 'PARTNER_MISMATCH');
  });
});

describe('matchLines: partner and amount', () => {
  it('auto-matches by counterparty IBAN and an equal amount', () => {
    const items = [createItem('1', '120.00'), createItem('2', '99.00')];
    const p = one(createLine('l1', '99.00', { iban: 'de89 3704 0044 0532 0130 00' }), items);
    assert.equal(p.status, 'auto');
    assert.equal(p.rule, 'partner-amount');
    assert.deepEqual(allocated(p), [['2', '99.00']]);
  });

  it('does not auto-match two invoices of one partner with the same amount and no reference', () => {
    const items = [
      createItem('1', '150.00', { dueDate: '2026-03-09' }),
      createItem('2', '150.00', { dueDate: '2026-01-09' }),
    ];
    const p = one(createLine('l1', '150.00', { iban: IBAN_P1 }), items);
    assert.notEqual(p.status, 'auto');
    assert.equal(p.reason, 'AMBIGUOUS');
    assert.ok(p.confidence < 0.9);
    assert.deepEqual([...(p.candidateIds ?? [])].sort(), ['1', '2']);
    // Nothing is reserved for a guess; the due date only ranks the twins in the explanation.
    assert.equal(p.status, 'exception');
    assert.deepEqual(p.allocations, []);
    assert.match(p.explanation, /2 open items fit the amount .*nearest due date: invoice INV\/2026\/0001/);
  });

  it('writes a bank fee within tolerance off to the bank-charges account', () => {
    const items = [createItem('1', '500.00')];
    const p = one(createLine('l1', '497.50', { iban: IBAN_P1 }), items);
    assert.equal(p.status, 'auto');
    assert.deepEqual(allocated(p), [['1', '500.00']]);
    assert.ok(p.writeOff);
    assert.equal(formatMoney(p.writeOff.amount), '-2.50');
    assert.equal(p.writeOff.account, 'bank-charges');
  });

  it('does not write off a difference beyond the tolerance', () => {
    const items = [createItem('1', '500.00'), createItem('2', '900.00')];
    const p = one(createLine('l1', '480.00', { iban: IBAN_P1 }), items);
    assert.notEqual(p.status, 'auto');
    assert.equal(p.writeOff, undefined);
  });

  it('matches vendor bills with outgoing lines', () => {
    const items = [createItem('b1', '75.00', { kind: 'vendor_bill', partnerId: 'p2' })];
    const p = one(createLine('l1', '-75.00', { iban: IBAN_P2 }), items);
    assert.equal(p.status, 'auto');
    assert.deepEqual(allocated(p), [['b1', '-75.00']]);
  });

  it('puts a line with no candidate into the exception queue', () => {
    const p = one(createLine('l1', '12.34', { remittanceInfo: 'hello' }), [createItem('1', '50.00')]);
    assert.equal(p.status, 'exception');
    assert.equal(p.reason, 'NO_CANDIDATE');
    assert.deepEqual(p.allocations, []);
  });

  it('only proposes a match found by the amount alone', () => {
    const p = one(createLine('l1', '50.00'), [createItem('1', '50.00')]);
    assert.equal(p.status, 'proposal');
    assert.equal(p.rule, 'amount-only');
  });
});

describe('matchLines: partial and combined payments', () => {
  it('matches a partial payment of a referenced invoice, and the rest with a later line', () => {
    const items = [createItem('42', '1000.00')];
    const [first, second] = run(
      [
        createLine('l1', '400.00', { iban: IBAN_P1, remittanceInfo: 'INV/2026/0042 part 1' }),
        createLine('l2', '600.00', { iban: IBAN_P1, remittanceInfo: 'INV/2026/0042 rest' }),
      ],
      items,
    );
    assert.equal(first?.status, 'auto');
    assert.deepEqual(allocated(first), [['42', '400.00']]);
    assert.match(first.explanation, /partial payment of 400.00 EUR, 600.00 EUR stays open/);
    assert.equal(second?.status, 'auto');
    assert.deepEqual(allocated(second), [['42', '600.00']]);
  });

  it('lets a line quoting an invoice by reference take it before an earlier line that only guessed', () => {
    const items = [
      createItem('1', '150.00', { dueDate: '2026-03-09' }),
      createItem('2', '150.00', { dueDate: '2026-01-09' }),
    ];
    const [guess, quoted] = run(
      [
        createLine('l1', '150.00', { iban: IBAN_P1 }),
        createLine('l2', '150.00', { iban: IBAN_P1, remittanceInfo: 'INV/2026/0001' }),
      ],
      items,
    );
    assert.equal(quoted?.status, 'auto');
    assert.deepEqual(allocated(quoted), [['1', '150.00']]);
    // With the quoted twin taken, the other line's amount fits one open item only.
    assert.deepEqual(allocated(guess!), [['2', '150.00']]);
  });

  it('does not auto-match another item of the partner when the quoted one is already paid', () => {
    const items = [
      createItem('1', '150.00'),
      createItem('2', '150.00', { partnerId: 'p2' }),
      createItem('3', '150.00'),
    ];
    const [, second] = run(
      [
        createLine('l1', '150.00', { iban: IBAN_P1, remittanceInfo: 'INV/2026/0001' }),
        createLine('l2', '150.00', { iban: IBAN_P1, remittanceInfo: 'INV/2026/0001' }),
      ],
      items,
    );
    assert.notEqual(second?.status, 'auto');
  });

  it('does not allocate more than the residual when the same invoice is paid twice', () => {
    const items = [createItem('42', '100.00')];
    const [, second] = run(
      [
        createLine('l1', '100.00', { iban: IBAN_P1, remittanceInfo: 'INV/2026/0042' }),
        createLine('l2', '100.00', { iban: IBAN_P1, remittanceInfo: 'INV/2026/0042' }),
      ],
      items,
    );
    assert.equal(second?.status, 'exception');
  });

  it('matches one line paying several referenced invoices of one partner', () => {
    const items = [createItem('1', '100.00'), createItem('2', '230.50'), createItem('3', '999.00')];
    const p = one(
      createLine('l1', '330.50', { iban: IBAN_P1, remittanceInfo: 'INV/2026/0001, INV/2026/0002' }),
      items,
    );
    assert.equal(p.status, 'auto');
    assert.deepEqual(allocated(p), [
      ['1', '100.00'],
      ['2', '230.50'],
    ]);
  });

  it('finds a combined payment without references by subset sum over the partner', () => {
    const items = [
      createItem('1', '100.00'),
      createItem('2', '230.50'),
      createItem('3', '999.00'),
      createItem('4', '17.25'),
    ];
    const p = one(createLine('l1', '1016.25', { iban: IBAN_P1 }), items);
    assert.equal(p.status, 'auto');
    assert.equal(p.rule, 'partner-combination');
    assert.deepEqual(allocated(p).sort(), [
      ['3', '999.00'],
      ['4', '17.25'],
    ]);
  });

  it('prefers an invoice netted with a small credit note to the invoice with a fee', () => {
    const items = [
      createItem('1', '20.89'),
      createItem('c1', '4.30', { kind: 'customer_credit_note', number: 'RINV/2026/0001' }),
    ];
    const p = one(createLine('l1', '16.59', { iban: IBAN_P1 }), items);
    assert.equal(p.status, 'auto');
    assert.equal(p.writeOff, undefined);
    assert.equal(p.allocations.length, 2);
  });

  it('nets a credit note against an invoice', () => {
    const items = [
      createItem('1', '300.00'),
      createItem('c1', '45.00', { kind: 'customer_credit_note', number: 'RINV/2026/0001' }),
      createItem('2', '610.00'),
    ];
    const p = one(createLine('l1', '255.00', { iban: IBAN_P1 }), items);
    assert.equal(p.status, 'auto');
    assert.deepEqual(allocated(p).sort(), [
      ['1', '300.00'],
      ['c1', '-45.00'],
    ]);
    assert.match(p.explanation, /credit notes netted/);
  });

  it('does not auto-match when several combinations fit', () => {
    const items = [
      createItem('1', '10.00'),
      createItem('2', '20.00'),
      createItem('3', '30.00'),
      createItem('4', '99.00'),
    ];
    const p = one(createLine('l1', '30.00', { iban: IBAN_P1 }), items);
    // 30.00 alone is an exact single match; 10 + 20 is another reading, but the single one wins.
    assert.equal(p.status, 'auto');
    const q = one(createLine('l1', '40.00', { iban: IBAN_P1 }), [...items, createItem('5', '30.00')]);
    assert.notEqual(q.status, 'auto');
    assert.equal(q.reason, 'AMBIGUOUS');
  });
});

describe('matchLines: currencies', () => {
  it('matches a foreign-currency line on its instructed amount in the invoice currency', () => {
    const items = [createItem('1', '1000.00', { currency: 'USD' })];
    const line = createLine('l1', '921.40', {
      iban: IBAN_P1,
      remittanceInfo: 'INV/2026/0001',
      instructedAmount: { amount: 100000n, currency: 'USD' } as never,
      exchangeRate: '1.0853',
    });
    const p = one(line, items);
    assert.equal(p.status, 'auto');
    assert.equal(p.lineAmount.currency, 'USD');
    assert.deepEqual(allocated(p), [['1', '1000.00']]);
    assert.match(p.explanation, /instructed amount 1000.00 USD/);
  });

  it('matches within tolerance at a provided rate, writing the difference off as FX', () => {
    const items = [createItem('1', '1000.00', { currency: 'USD' })];
    const line = createLine('l1', '920.00', { iban: IBAN_P1, remittanceInfo: 'INV/2026/0001' });
    const p = one(line, items, { ...context, rates: { 'EUR/USD': '1.0850' } });
    assert.equal(p.status, 'auto');
    assert.equal(formatMoney(p.lineAmount), '998.20');
    assert.equal(p.writeOff?.kind, 'fx-difference');
    assert.equal(formatMoney(p.writeOff.amount), '-1.80');
  });

  it('reports a currency mismatch when nothing says how to convert', () => {
    const items = [createItem('1', '1000.00', { currency: 'USD' })];
    const p = one(createLine('l1', '920.00', { remittanceInfo: 'INV/2026/0001' }), items);
    assert.equal(p.status, 'exception');
    assert.equal(p.reason, 'CURRENCY_MISMATCH');
  });
});

describe('rules', () => {
  it('parses an empty section into the defaults and keeps a configured order', () => {
    const defaults = reconciliationRulesSchema.parse({});
    assert.equal(defaults.autoThreshold, 0.9);
    assert.deepEqual(defaults.pipeline, [
      'reference',
      'partner-amount',
      'partner-combination',
      'amount-only',
    ]);
    const custom = reconciliationRulesSchema.parse({
      pipeline: ['partner-amount'],
      tolerance: { defaultAmount: '1.00' },
    });
    assert.deepEqual(custom.pipeline, ['partner-amount']);
    assert.equal(custom.tolerance.fxBasisPoints, 50);
  });

  it('rejects a proposal threshold above the auto threshold', () => {
    assert.equal(
      reconciliationRulesSchema.safeParse({ autoThreshold: 0.5, proposalThreshold: 0.6 }).success,
      false,
    );
  });

  it('skips rules left out of the pipeline', () => {
    const rules = reconciliationRulesSchema.parse({ pipeline: ['reference'] });
    const [p] = matchLines({
      lines: [createLine('l1', '99.00', { iban: IBAN_P1 })],
      openItems: [createItem('1', '99.00')],
      rules,
      context,
    });
    assert.equal(p?.status, 'exception');
  });

  it('builds RF references that verify', () => {
    assert.equal(createRfReference('539007547034'), 'RF18539007547034');
  });
});

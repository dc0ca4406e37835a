import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invoiceSchema, parseWith, paymentOrderSchema, statementSchema, ValidationError } from './index.ts';

describe('invoice schema', () => {
  const base = {
    id: 'inv1',
    entityId: 'acme-de',
    number: 'INV/2026/0042',
    kind: 'customer_invoice',
    partnerId: 'p1',
    amount: { amount: '100.00', currency: 'EUR' },
    residual: { amount: '40.00', currency: 'EUR' },
    dueDate: '2026-12-01',
    paymentReference: 'RF18539007547034',
  };

  it('accepts an open item', () => {
    const inv = parseWith(invoiceSchema, base, 'invoice');
    assert.equal(inv.residual.amount, 4000n);
  });

  it('rejects a residual above the amount, a residual in another currency and a bad date, naming the path', () => {
    assert.throws(
      () => parseWith(invoiceSchema, { ...base, residual: { amount: '100.01', currency: 'EUR' } }, 'invoice'),
      (e: unknown) => e instanceof ValidationError && e.issues.some((i) => i.path === 'residual.amount'),
    );
    assert.throws(
      () => parseWith(invoiceSchema, { ...base, residual: { amount: '1.00', currency: 'USD' } }, 'invoice'),
      (e: unknown) => e instanceof ValidationError && e.issues.some((i) => i.path === 'residual.currency'),
    );
    assert.throws(
      () => parseWith(invoiceSchema, { ...base, dueDate: '2026-13-01' }, 'invoice'),
      (e: unknown) => e instanceof ValidationError && e.issues.some((i) => i.path === 'dueDate'),
    );
  });
});

describe('statement schema', () => {
  it('names the line and field of a bad amount', () => {
    const statement = {
      statementId: 'S1',
      kind: 'statement',
      format: 'camt.053.001.08',
      account: { iban: 'DE89370400440532013000', currency: 'EUR' },
      lines: [
        {
          entryRef: 'E1',
          status: 'booked',
          bookingDate: '2026-11-02',
          amount: { amount: '10.00', currency: 'EUR' },
        },
        {
          entryRef: 'E2',
          status: 'booked',
          bookingDate: '2026-11-02',
          amount: { amount: '10.001', currency: 'EUR' },
        },
      ],
    };
    assert.throws(
      () => parseWith(statementSchema, statement, 'statement'),
      (e: unknown) => e instanceof ValidationError && e.issues[0]?.path === 'lines.1.amount.amount',
    );
  });
});

describe('payment order schema', () => {
  it('requires a valid creditor IBAN and at most 140 characters of remittance', () => {
    const order = {
      id: 'po1',
      entityId: 'acme-de',
      debtorAccountId: 'main-eur',
      executionDate: '2026-11-25',
      currency: 'EUR',
      state: 'draft',
      createdBy: 'alice',
      lines: [
        {
          endToEndId: 'E2E-1',
          vendorId: 'v1',
          vendorName: 'Vendor GmbH',
          creditorIban: 'DE89370400440532013001',
          amount: { amount: '10.00', currency: 'EUR' },
          remittance: 'x'.repeat(141),
          invoiceIds: ['b1'],
        },
      ],
    };
    const r = paymentOrderSchema.safeParse(order);
    assert.equal(r.success, false);
    const paths = r.error.issues.map((i) => i.path.join('.'));
    assert.ok(paths.includes('lines.0.creditorIban'));
    assert.ok(paths.includes('lines.0.remittance'));
  });
});

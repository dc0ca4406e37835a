import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { money, type PaymentOrder, paymentOrderSchema } from '../../domain/index.ts';
import { type ApprovalContext, evaluateApprovalPolicy, type VendorFacts } from './evaluate.ts';
import { type ApprovalPolicyInput, approvalPolicySchema } from './schema.ts';

const NOW = new Date(1_700_000_000_000);
const DAY = 86_400_000;
const daysAgo = (n: number): Date => new Date(NOW.getTime() - n * DAY);
const eur = (cents: number): ReturnType<typeof money> => money(BigInt(cents), 'EUR');

const POLICY_INPUT: ApprovalPolicyInput = {
  bands: [
    { name: 'small', currency: 'EUR', from: '0', to: '10000.00', approvals: 1 },
    {
      name: 'large',
      currency: 'EUR',
      from: '10000.00',
      to: '100000.00',
      approvals: 2,
      roles: ['finance-manager'],
    },
    { name: 'huge', currency: 'EUR', from: '100000.00', approvals: 3, roles: ['finance-manager', 'cfo'] },
    { name: 'ch-all', currency: 'CHF', entityId: 'ch-ag', from: '0', approvals: 2, roles: ['ch-treasurer'] },
    { name: 'chf-group', currency: 'CHF', from: '0', approvals: 1 },
  ],
  riskSignals: {
    newVendor: { withinDays: 30, approvals: 2, roles: ['controller'] },
    bankAccountChanged: { withinDays: 14, approvals: 2, roles: ['controller'] },
    amountAboveHistory: { factor: '3', basis: 'average', minPayments: 3, approvals: 2 },
    splitBelowLimit: { windowDays: 7, approvals: 2 },
  },
  unmatched: { approvals: 2, roles: ['cfo'] },
  approvalValidForHours: 48,
};
const POLICY = approvalPolicySchema.parse(POLICY_INPUT);

function order(
  lines: { vendorId?: string; amount: string; invoiceIds?: string[] }[],
  over: Partial<{ currency: string; entityId: string }> = {},
): PaymentOrder {
  const currency = over.currency ?? 'EUR';
  return paymentOrderSchema.parse({
    id: 'ORD-1',
    entityId: over.entityId ?? 'de-gmbh',
    debtorAccountId: 'acct',
    executionDate: '2023-11-20',
    currency,
    state: 'pending_approval',
    createdBy: 'alice',
    lines: lines.map((l, i) => ({
      endToEndId: `E${i}`,
      vendorId: l.vendorId ?? 'v1',
      vendorName: `Vendor ${l.vendorId ?? 'v1'}`,
      creditorIban: 'DE89370400440532013000',
      amount: { amount: l.amount, currency },
      invoiceIds: l.invoiceIds ?? [`BILL-${i}`],
    })),
  });
}

const OLD_VENDOR: VendorFacts = {
  vendorId: 'v1',
  createdAt: daysAgo(400),
  paymentHistory: { count: 10, average: eur(200_000), max: eur(500_000) },
};
const ctx = (facts: Partial<VendorFacts> = {}, id = 'v1'): ApprovalContext => ({
  vendors: { [id]: { ...OLD_VENDOR, vendorId: id, ...facts } },
});
const rules = (e: ReturnType<typeof evaluateApprovalPolicy>): string[] => e.firedRules.map((r) => r.rule);

void describe('evaluateApprovalPolicy: amount bands', () => {
  const cases: [string, string, number, string[]][] = [
    ['0.01', 'band:small', 1, []],
    ['9999.99', 'band:small', 1, []],
    ['10000.00', 'band:large', 2, ['finance-manager']],
    ['99999.99', 'band:large', 2, ['finance-manager']],
    ['100000.00', 'band:huge', 3, ['cfo', 'finance-manager']],
  ];
  for (const [amount, rule, approvals, roles] of cases) {
    void it(`puts a total of ${amount} EUR in ${rule} (${approvals} approvals)`, () => {
      const e = evaluateApprovalPolicy(
        order([{ amount }]),
        ctx({ paymentHistory: { count: 10, average: eur(100_000_000), max: eur(100_000_000) } }),
        POLICY,
        NOW,
      );
      assert.deepEqual(rules(e), [rule]);
      assert.equal(e.requiredApprovals, approvals);
      assert.deepEqual(e.requiredRoles, roles);
      assert.match(e.firedRules[0]?.reason ?? '', new RegExp(`order total ${amount} EUR is in band`));
    });
  }

  void it('sums all lines of the order into the total', () => {
    const e = evaluateApprovalPolicy(
      order([{ amount: '6000.00' }, { amount: '4000.00', vendorId: 'v2' }]),
      { vendors: { ...ctx().vendors, ...ctx({}, 'v2').vendors } },
      POLICY,
      NOW,
    );
    assert.equal(e.total.amount, 1_000_000n);
    assert.ok(rules(e).includes('band:large'));
  });

  void it('uses the legal entity’s own bands instead of the group-wide ones', () => {
    const ch = evaluateApprovalPolicy(
      order([{ amount: '50.00' }], { currency: 'CHF', entityId: 'ch-ag' }),
      ctx({ paymentHistory: undefined }),
      POLICY,
      NOW,
    );
    assert.deepEqual(
      [rules(ch), ch.requiredApprovals, ch.requiredRoles],
      [['band:ch-all'], 2, ['ch-treasurer']],
    );
    const other = evaluateApprovalPolicy(
      order([{ amount: '50.00' }], { currency: 'CHF', entityId: 'de-gmbh' }),
      ctx({ paymentHistory: undefined }),
      POLICY,
      NOW,
    );
    assert.deepEqual([rules(other), other.requiredApprovals], [['band:chf-group'], 1]);
  });

  void it('fails closed for a currency no band covers', () => {
    const e = evaluateApprovalPolicy(
      order([{ amount: '50.00' }], { currency: 'USD' }),
      ctx({ paymentHistory: undefined }),
      POLICY,
      NOW,
    );
    assert.deepEqual([rules(e), e.requiredApprovals, e.requiredRoles], [['unmatched'], 2, ['cfo']]);
    assert.match(e.firedRules[0]?.reason ?? '', /no amount band covers 50.00 USD/);
  });

  void it('fails closed with the default requirement when the policy has no bands at all', () => {
    const e = evaluateApprovalPolicy(order([{ amount: '1.00' }]), ctx(), approvalPolicySchema.parse({}), NOW);
    assert.deepEqual([rules(e), e.requiredApprovals], [['unmatched'], 2]);
  });
});

void describe('evaluateApprovalPolicy: risk signals', () => {
  const small = (): PaymentOrder => order([{ amount: '100.00' }]);

  void it('fires new-vendor for a vendor created within N days, not on day N', () => {
    assert.deepEqual(rules(evaluateApprovalPolicy(small(), ctx({ createdAt: daysAgo(3) }), POLICY, NOW)), [
      'band:small',
      'new-vendor:v1',
    ]);
    assert.deepEqual(rules(evaluateApprovalPolicy(small(), ctx({ createdAt: daysAgo(30) }), POLICY, NOW)), [
      'band:small',
    ]);
    const e = evaluateApprovalPolicy(small(), ctx({ createdAt: daysAgo(3) }), POLICY, NOW);
    assert.deepEqual([e.requiredApprovals, e.requiredRoles], [2, ['controller']]);
    assert.match(e.firedRules[1]?.reason ?? '', /created 3 day\(s\) ago, within 30 days/);
  });

  void it('fires bank-account-changed within N days only', () => {
    assert.ok(
      rules(evaluateApprovalPolicy(small(), ctx({ bankAccountChangedAt: daysAgo(2) }), POLICY, NOW)).includes(
        'bank-account-changed:v1',
      ),
    );
    assert.deepEqual(
      rules(evaluateApprovalPolicy(small(), ctx({ bankAccountChangedAt: daysAgo(20) }), POLICY, NOW)),
      ['band:small'],
    );
  });

  void it('fires amount-above-history above K × average, with exact integer maths, and needs enough history', () => {
    // average 2000.00 × 3 = 6000.00: 6000.00 is not above, 6000.01 is.
    assert.deepEqual(rules(evaluateApprovalPolicy(order([{ amount: '6000.00' }]), ctx(), POLICY, NOW)), [
      'band:small',
    ]);
    assert.ok(
      rules(evaluateApprovalPolicy(order([{ amount: '6000.01' }]), ctx(), POLICY, NOW)).includes(
        'amount-above-history:v1',
      ),
    );
    const thin = ctx({ paymentHistory: { count: 2, average: eur(100), max: eur(100) } });
    assert.deepEqual(rules(evaluateApprovalPolicy(order([{ amount: '6000.01' }]), thin, POLICY, NOW)), [
      'band:small',
    ]);
  });

  void it('compares against the max when configured, with a fractional factor', () => {
    const policy = approvalPolicySchema.parse({
      ...POLICY_INPUT,
      riskSignals: { amountAboveHistory: { factor: '1.5', basis: 'max', approvals: 2 } },
    });
    // max 5000.00 × 1.5 = 7500.00
    assert.deepEqual(rules(evaluateApprovalPolicy(order([{ amount: '7500.00' }]), ctx(), policy, NOW)), [
      'band:small',
    ]);
    assert.ok(
      rules(evaluateApprovalPolicy(order([{ amount: '7500.01' }]), ctx(), policy, NOW)).includes(
        'amount-above-history:v1',
      ),
    );
  });

  void it('fires split-below-limit when bills each under a limit add up to it within the window, requiring the band of the sum', () => {
    const facts = ctx({
      recentBills: [
        { billId: 'B1', amount: eur(450_000), billDate: daysAgo(2) },
        { billId: 'B2', amount: eur(400_000), billDate: daysAgo(1) },
        { billId: 'B0', amount: eur(900_000), billDate: daysAgo(30) },
      ],
    });
    const e = evaluateApprovalPolicy(order([{ amount: '1500.00', invoiceIds: ['B3'] }]), facts, POLICY, NOW);
    assert.ok(rules(e).includes('split-below-limit:v1'));
    assert.deepEqual([e.requiredApprovals, e.requiredRoles], [2, ['finance-manager']]);
    assert.match(
      e.firedRules.find((r) => r.rule.startsWith('split'))?.reason ?? '',
      /3 bills of Vendor v1 within 7 days are each under the limit 10000.00 EUR but add up to 10000.00 EUR/,
    );
  });

  void it('does not count a bill twice when it is both in the facts and in the order', () => {
    const facts = ctx({
      recentBills: [
        { billId: 'B1', amount: eur(600_000), billDate: daysAgo(1) },
        { billId: 'B2', amount: eur(300_000), billDate: daysAgo(1) },
      ],
    });
    assert.deepEqual(
      rules(evaluateApprovalPolicy(order([{ amount: '3000.00', invoiceIds: ['B2'] }]), facts, POLICY, NOW)),
      ['band:small'],
    );
  });

  void it('does not fire split-below-limit for a single bill or outside the window', () => {
    assert.ok(
      !rules(evaluateApprovalPolicy(order([{ amount: '9999.99' }]), ctx(), POLICY, NOW)).some((r) =>
        r.startsWith('split'),
      ),
    );
    const old = ctx({ recentBills: [{ billId: 'B1', amount: eur(900_000), billDate: daysAgo(8) }] });
    assert.deepEqual(rules(evaluateApprovalPolicy(order([{ amount: '2000.00' }]), old, POLICY, NOW)), [
      'band:small',
    ]);
  });

  void it('treats a vendor without facts as a risk', () => {
    const e = evaluateApprovalPolicy(
      order([{ amount: '10.00', vendorId: 'ghost' }]),
      { vendors: {} },
      POLICY,
      NOW,
    );
    assert.deepEqual([rules(e), e.requiredApprovals], [['band:small', 'vendor-unknown:ghost'], 2]);
  });

  void it('combines every fired rule: the most approvals and the union of roles', () => {
    const e = evaluateApprovalPolicy(
      order([{ amount: '20000.00' }]),
      ctx({ createdAt: daysAgo(1), bankAccountChangedAt: daysAgo(1) }),
      POLICY,
      NOW,
    );
    assert.deepEqual(rules(e), [
      'band:large',
      'new-vendor:v1',
      'bank-account-changed:v1',
      'amount-above-history:v1',
    ]);
    assert.deepEqual([e.requiredApprovals, e.requiredRoles], [2, ['controller', 'finance-manager']]);
  });
});

void describe('approvalPolicySchema', () => {
  void it('rejects amounts given as numbers and zero approvals', () => {
    assert.equal(
      approvalPolicySchema.safeParse({ bands: [{ currency: 'EUR', from: 100, approvals: 1 }] }).success,
      false,
    );
    assert.equal(
      approvalPolicySchema.safeParse({ bands: [{ currency: 'EUR', approvals: 0 }] }).success,
      false,
    );
  });
});

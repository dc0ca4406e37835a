/**
 * Evaluates the approval policy for one payment order: which bands and risk signals fire, and
 * therefore how many distinct human approvals and which roles the order needs. Pure: the vendor
 * facts and the time come in as arguments.
 */
import { type Money, type PaymentOrder, formatMoney, money, parseMoney } from '../../domain/index.ts';
import type { ApprovalBand, ApprovalPolicy, ApprovalRequirement } from './schema.ts';

const DAY_MS = 86_400_000;

/** What Kontor knows about a vendor when an order is evaluated (read from Odoo by the flow). */
export interface VendorFacts {
  vendorId: string;
  /** When the vendor (res.partner) was created. */
  createdAt: Date;
  /** When its bank account (res.partner.bank) last changed, if ever. */
  bankAccountChangedAt?: Date;
  /** Past payments to this vendor in the order's currency. */
  paymentHistory?: { count: number; average: Money; max: Money };
  /** The vendor's bills around now (open or recently paid), to spot a bill split under a limit. */
  recentBills?: { billId: string; amount: Money; billDate: Date }[];
}

/** Facts the policy needs beyond the order itself. */
export interface ApprovalContext {
  vendors: Readonly<Record<string, VendorFacts>>;
}

/** One rule that fired, why in words, and what it asks for. */
export interface FiredRule {
  rule: string;
  reason: string;
  approvals: number;
  roles: string[];
}

/** The policy's answer for one order. */
export interface ApprovalEvaluation {
  total: Money;
  requiredApprovals: number;
  requiredRoles: string[];
  firedRules: FiredRule[];
}

function rolesText(roles: readonly string[]): string {
  return roles.length === 0 ? 'any role' : `role${roles.length > 1 ? 's' : ''} ${roles.join(', ')}`;
}

function requirementText(r: ApprovalRequirement): string {
  return `${r.approvals} approval${r.approvals > 1 ? 's' : ''}, ${rolesText(r.roles)}`;
}

function show(m: Money): string {
  return `${formatMoney(m)} ${m.currency}`;
}

/** A decimal factor "2.5" as the exact fraction 25/10, so comparisons stay in integers. */
function toFraction(decimal: string): { num: bigint; den: bigint } {
  const [whole = '0', fraction = ''] = decimal.split('.');
  return { num: BigInt(whole + fraction), den: 10n ** BigInt(fraction.length) };
}

function bandLabel(band: ApprovalBand): string {
  const range = `${band.from} ≤ total${band.to === undefined ? '' : ` < ${band.to}`} ${band.currency}`;
  return band.name === undefined ? range : `"${band.name}" (${range})`;
}

function bandsFor(policy: ApprovalPolicy, order: PaymentOrder): ApprovalBand[] {
  const sameCurrency = policy.bands.filter((b) => b.currency === order.currency);
  // Bands written for the order's legal entity replace the group-wide ones for that entity.
  const forEntity = sameCurrency.filter((b) => b.entityId === order.entityId);
  return forEntity.length > 0 ? forEntity : sameCurrency.filter((b) => b.entityId === undefined);
}

function inBand(band: ApprovalBand, amount: Money): boolean {
  const from = parseMoney(band.from, band.currency).amount;
  const to = band.to === undefined ? undefined : parseMoney(band.to, band.currency).amount;
  return amount.amount >= from && (to === undefined || amount.amount < to);
}

/** Which bands, entity rules and risk signals apply to `order`, and the approvals and roles they add up to. */
export function evaluateApprovalPolicy(
  order: PaymentOrder,
  context: ApprovalContext,
  policy: ApprovalPolicy,
  now: Date,
): ApprovalEvaluation {
  const total = money(
    order.lines.reduce((s, l) => s + l.amount.amount, 0n),
    order.currency,
  );
  const fired: FiredRule[] = [];
  const fire = (rule: string, reason: string, r: ApprovalRequirement): void => {
    fired.push({
      rule,
      reason: `${reason} → ${requirementText(r)}`,
      approvals: r.approvals,
      roles: [...r.roles],
    });
  };

  const bands = bandsFor(policy, order);
  const matching = bands.filter((b) => inBand(b, total));
  for (const band of matching)
    fire(
      `band:${band.name ?? `${band.currency}-${band.from}`}`,
      `order total ${show(total)} is in band ${bandLabel(band)}${band.entityId === undefined ? '' : ` of entity ${band.entityId}`}`,
      band,
    );
  if (matching.length === 0) {
    fire(
      'unmatched',
      `no amount band covers ${show(total)} for entity ${order.entityId}, so the fail-closed default applies`,
      policy.unmatched,
    );
  }

  const signals = policy.riskSignals;
  const vendorIds = [...new Set(order.lines.map((l) => l.vendorId))];
  for (const vendorId of vendorIds) {
    const lines = order.lines.filter((l) => l.vendorId === vendorId);
    const name = lines[0]?.vendorName ?? vendorId;
    const vendorTotal = money(
      lines.reduce((s, l) => s + l.amount.amount, 0n),
      order.currency,
    );
    const facts = context.vendors[vendorId];
    if (facts === undefined) {
      // No facts means no proof the vendor is safe: treat it like the strictest known signal.
      fire(
        `vendor-unknown:${vendorId}`,
        `no vendor facts for ${name} (${vendorId}), so its age, bank account and history cannot be checked`,
        signals.newVendor ?? signals.bankAccountChanged ?? policy.unmatched,
      );
      continue;
    }
    if (signals.newVendor !== undefined) {
      const ageDays = (now.getTime() - facts.createdAt.getTime()) / DAY_MS;
      if (ageDays < signals.newVendor.withinDays) {
        fire(
          `new-vendor:${vendorId}`,
          `vendor ${name} was created ${Math.floor(ageDays)} day(s) ago, within ${signals.newVendor.withinDays} days`,
          signals.newVendor,
        );
      }
    }
    if (signals.bankAccountChanged !== undefined && facts.bankAccountChangedAt !== undefined) {
      const days = (now.getTime() - facts.bankAccountChangedAt.getTime()) / DAY_MS;
      if (days < signals.bankAccountChanged.withinDays) {
        fire(
          `bank-account-changed:${vendorId}`,
          `the bank account of ${name} changed ${Math.floor(days)} day(s) ago, within ${signals.bankAccountChanged.withinDays} days`,
          signals.bankAccountChanged,
        );
      }
    }
    const history = facts.paymentHistory;
    const above = signals.amountAboveHistory;
    if (above !== undefined && history !== undefined && history.count >= above.minPayments) {
      const basis = above.basis === 'max' ? history.max : history.average;
      const { num, den } = toFraction(above.factor);
      if (basis.currency === order.currency && vendorTotal.amount * den > basis.amount * num) {
        fire(
          `amount-above-history:${vendorId}`,
          `${name} is paid ${show(vendorTotal)}, more than ${above.factor} × its historical ${above.basis} of ${show(basis)} (${history.count} payments)`,
          above,
        );
      }
    }
    const split = signals.splitBelowLimit;
    if (split !== undefined) {
      const windowStart = now.getTime() - split.windowDays * DAY_MS;
      const bills = (facts.recentBills ?? []).filter(
        (b) => b.amount.currency === order.currency && b.billDate.getTime() >= windowStart,
      );
      const known = new Set(bills.map((b) => b.billId));
      // Lines whose bills the facts do not list count as one item each, so the order itself is never missed.
      const items = [
        ...bills.map((b) => b.amount.amount),
        ...lines.filter((l) => !l.invoiceIds.every((id) => known.has(id))).map((l) => l.amount.amount),
      ];
      const sum = items.reduce((s, a) => s + a, 0n);
      const limits = [
        ...new Set(bands.map((b) => parseMoney(b.from, b.currency).amount).filter((a) => a > 0n)),
      ].sort((a, b) => (a < b ? 1 : -1));
      const limit = limits.find((l) => items.length >= 2 && items.every((a) => a < l) && sum >= l);
      if (limit !== undefined) {
        const atSum = bands.filter((b) => inBand(b, money(sum, order.currency)));
        const strictest = atSum.reduce<ApprovalRequirement>(
          (acc, b) => ({
            approvals: Math.max(acc.approvals, b.approvals),
            roles: [...new Set([...acc.roles, ...b.roles])],
          }),
          split,
        );
        fire(
          `split-below-limit:${vendorId}`,
          `${items.length} bills of ${name} within ${split.windowDays} days are each under the limit ${show(money(limit, order.currency))} but add up to ${show(money(sum, order.currency))}`,
          strictest,
        );
      }
    }
  }

  return {
    total,
    requiredApprovals: fired.reduce((m, r) => Math.max(m, r.approvals), 0),
    requiredRoles: [...new Set(fired.flatMap((r) => r.roles))].sort(),
    firedRules: fired,
  };
}

/** Turns an evaluation into the requirement that decideApproval counts approvals against. */
export function deriveRequirement(evaluation: ApprovalEvaluation): ApprovalRequirement {
  return { approvals: evaluation.requiredApprovals, roles: [...evaluation.requiredRoles] };
}

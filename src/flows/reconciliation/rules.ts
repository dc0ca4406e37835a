/** The reconciliation rules as configured in kontor.yaml: pipeline order, tolerances, thresholds and search bounds. */
import { z } from 'zod';
import { currencyExponent, parseCurrency, parseMoney } from '../../domain/index.ts';
import type { RuleId } from './types.ts';

const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'expected a non-negative decimal such as "2.50"');

/** Every rule, in the default order. */
export const ruleIds: readonly RuleId[] = [
  'reference',
  'partner-amount',
  'partner-combination',
  'amount-only',
];

/** Schema of the `reconciliation.rules` section of kontor.yaml. */
export const reconciliationRulesSchema = z
  .object({
    /** Which rules run, in which order; the first that reaches the threshold decides. */
    pipeline: z
      .array(z.enum(['reference', 'partner-amount', 'partner-combination', 'amount-only']))
      .min(1)
      .default([...ruleIds]),
    /** Confidence at or above which a match is reconciled without a person. */
    autoThreshold: z.number().min(0).max(1).default(0.9),
    /** Confidence below which a candidate is not worth proposing and the line becomes an exception. */
    proposalThreshold: z.number().min(0).max(1).default(0.3),
    tolerance: z
      .object({
        /** Largest difference written off as bank charges, in the item currency's major units. */
        defaultAmount: decimal.default('5.00'),
        /** Per-currency overrides of `defaultAmount`, e.g. `{ JPY: "700" }`. */
        amounts: z.record(z.string().regex(/^[A-Z]{3}$/), decimal).default({}),
        /** Extra tolerance for amounts converted at a provided rate, in basis points of the amount. */
        fxBasisPoints: z.number().int().min(0).max(1000).default(50),
      })
      .prefault({}),
    /**
     * Where write-offs are booked in Odoo: an account code of the company (e.g. "620000"), or the
     * defaults `bank-charges` (the chart's Bank Fees account, xml id `account.<company>_expense_finance`)
     * and `fx-difference` (the company's exchange gain or loss account, by the sign of the difference).
     */
    writeOffAccounts: z
      .object({
        bankCharges: z.string().min(1).default('bank-charges'),
        fxDifference: z.string().min(1).default('fx-difference'),
      })
      .prefault({}),
    combination: z
      .object({
        /** Open items of one partner considered for a combined payment (nearest due dates first). */
        maxItems: z.number().int().min(2).max(64).default(24),
        /** Most invoices one line may pay. */
        maxSubsetSize: z.number().int().min(2).max(12).default(6),
        /** Search steps per line before giving up; bounds the time of the subset sum. */
        maxIterations: z.number().int().min(100).max(10_000_000).default(50_000),
      })
      .prefault({}),
    /** Open items of one partner scanned by the partner rules; larger partners use the exact-amount index only. */
    maxPartnerScan: z.number().int().min(1).default(500),
    /** A due date this many days or fewer from the booking date counts as near. */
    dateProximityDays: z.number().int().min(0).default(30),
  })
  .refine((r) => r.proposalThreshold <= r.autoThreshold, {
    message: 'proposalThreshold cannot exceed autoThreshold',
    path: ['proposalThreshold'],
  });

/** The rules as written in kontor.yaml, defaults applied. */
export type ReconciliationRules = z.infer<typeof reconciliationRulesSchema>;

/** The default rules (what an empty `reconciliation.rules` section means). */
export function createDefaultRules(): ReconciliationRules {
  return reconciliationRulesSchema.parse({});
}

/** Largest bank-charges write-off in minor units of `currency`. */
export function resolveToleranceMinor(rules: ReconciliationRules, currency: string): bigint {
  const code = parseCurrency(currency);
  const text = rules.tolerance.amounts[code] ?? rules.tolerance.defaultAmount;
  // A default written with two decimals ("5.00") stays valid for JPY: trailing zeros are exact.
  const exponent = currencyExponent(code);
  const [whole = '0', fraction = ''] = text.split('.');
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > exponent) return parseMoney(`${whole}.${trimmed.slice(0, exponent)}`, code).amount;
  return parseMoney(text, code).amount;
}

/** The approval policy as configuration: a zod schema that kontor.yaml can embed. */
import { z } from 'zod';

const decimal = z
  .string()
  .regex(/^\d+(?:\.\d+)?$/, 'expected a non-negative decimal string such as "10000.00"');
const roles = z.array(z.string().min(1)).default([]);

/** What a rule asks for: a number of distinct human approvals and roles that must be among the approvers. */
export const approvalRequirementSchema = z.object({
  approvals: z.number().int().min(1).max(10),
  roles,
});

/** An amount band: orders whose total is in [from, to) in `currency` (and `entityId`, when given) need `approvals` and `roles`. */
export const approvalBandSchema = approvalRequirementSchema.extend({
  name: z.string().min(1).optional(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  entityId: z.string().min(1).optional(),
  from: decimal.default('0'),
  to: decimal.optional(),
});

/** Risk signals that raise the requirement for one order; each is off unless configured. */
export const riskSignalsSchema = z.object({
  /** The vendor was created in Odoo within `withinDays` (fraudsters open fresh vendors). */
  newVendor: approvalRequirementSchema.extend({ withinDays: z.number().int().positive() }).optional(),
  /** The vendor's bank account changed within `withinDays` (the classic invoice-redirection fraud). */
  bankAccountChanged: approvalRequirementSchema
    .extend({ withinDays: z.number().int().positive() })
    .optional(),
  /** This order pays the vendor more than `factor` × its historical average (or max) payment. */
  amountAboveHistory: approvalRequirementSchema
    .extend({
      factor: decimal,
      basis: z.enum(['average', 'max']).default('average'),
      minPayments: z.number().int().min(1).default(3),
    })
    .optional(),
  /** Several bills of one vendor within `windowDays`, each under a band limit, sum to at least that limit. */
  splitBelowLimit: approvalRequirementSchema.extend({ windowDays: z.number().int().positive() }).optional(),
});

/** The whole approval policy: bands, risk signals, what applies when nothing matches, and how long an approval lasts. */
export const approvalPolicySchema = z.object({
  bands: z.array(approvalBandSchema).default([]),
  riskSignals: riskSignalsSchema.default({}),
  /** Fail closed: an order no band covers (another currency or entity) needs this. */
  unmatched: approvalRequirementSchema.default({ approvals: 2, roles: [] }),
  /** An approval older than this no longer counts (re-approve stale orders). */
  approvalValidForHours: z.number().positive().default(72),
});

export type ApprovalRequirement = z.infer<typeof approvalRequirementSchema>;
export type ApprovalBand = z.infer<typeof approvalBandSchema>;
export type RiskSignals = z.infer<typeof riskSignalsSchema>;
export type ApprovalPolicy = z.infer<typeof approvalPolicySchema>;
export type ApprovalPolicyInput = z.input<typeof approvalPolicySchema>;

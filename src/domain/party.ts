/** Legal entities, parties (customers, vendors), bank accounts and cost centers. */
import { z } from 'zod';
import { bicSchema, ibanSchema } from './iban.ts';

const currency = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR');

/** A company of the group, mapped to one Odoo company. */
export const legalEntitySchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  country: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 code such as DE'),
  baseCurrency: currency,
  odooCompanyId: z.number().int().positive().optional(),
  vatId: z.string().optional(),
});
export type LegalEntity = z.infer<typeof legalEntitySchema>;

/** A bank account: IBAN or a national account number with the bank, in one currency. */
export const bankAccountSchema = z
  .object({
    id: z.string().min(1),
    entityId: z.string().min(1).optional(),
    iban: ibanSchema.optional(),
    accountNumber: z.string().min(1).optional(),
    bic: bicSchema.optional(),
    bankName: z.string().optional(),
    currency,
    holderName: z.string().optional(),
  })
  .refine((a) => a.iban !== undefined || a.accountNumber !== undefined, {
    message: 'a bank account needs an iban or an accountNumber',
    path: ['iban'],
  });
export type BankAccount = z.infer<typeof bankAccountSchema>;

/** A business partner: customer, vendor or both; `bankAccounts` are where it pays from or is paid to. */
export const partySchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  kind: z.enum(['customer', 'vendor', 'both', 'other']),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  vatId: z.string().optional(),
  odooPartnerId: z.number().int().positive().optional(),
  bankAccounts: z.array(z.object({ iban: ibanSchema, bic: bicSchema.optional() })).default([]),
});
export type Party = z.infer<typeof partySchema>;

/** A cost center (Odoo analytic account) that actuals and budgets are booked against. */
export const costCenterSchema = z.object({
  id: z.string().min(1),
  entityId: z.string().min(1),
  code: z.string().min(1),
  name: z.string().min(1),
  odooAnalyticAccountId: z.number().int().positive().optional(),
});
export type CostCenter = z.infer<typeof costCenterSchema>;

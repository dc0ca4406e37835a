/** Payment orders: approved batches of outgoing credit transfers to vendors. */
import { z } from 'zod';
import { bicSchema, ibanSchema } from './iban.ts';
import { moneySchema } from './money.ts';

/** Every state a payment order moves through (see flows/payment-run/README.md). */
export const paymentOrderStates = [
  'draft',
  'pending_approval',
  'approved',
  'released',
  'sent',
  'accepted',
  'partially_accepted',
  'rejected',
  'settled',
  'cancelled',
] as const;
export type PaymentOrderState = (typeof paymentOrderStates)[number];

/** One transfer of an order: pays one or more bills of one vendor. */
export const paymentOrderLineSchema = z.object({
  endToEndId: z.string().min(1).max(35),
  vendorId: z.string().min(1),
  vendorName: z.string().min(1).max(140),
  creditorIban: ibanSchema,
  creditorBic: bicSchema.optional(),
  amount: moneySchema,
  remittance: z.string().max(140).optional(),
  creditorReference: z.string().max(35).optional(),
  invoiceIds: z.array(z.string().min(1)).min(1),
});
export type PaymentOrderLine = z.infer<typeof paymentOrderLineSchema>;

/** A batch of transfers from one debtor account on one execution date. */
export const paymentOrderSchema = z.object({
  id: z.string().min(1),
  entityId: z.string().min(1),
  debtorAccountId: z.string().min(1),
  executionDate: z.iso.date(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  state: z.enum(paymentOrderStates),
  createdBy: z.string().min(1),
  lines: z.array(paymentOrderLineSchema).min(1),
});
export type PaymentOrder = z.infer<typeof paymentOrderSchema>;

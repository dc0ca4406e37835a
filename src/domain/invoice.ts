/** Open items (invoices and bills) and payments as Kontor sees them. */
import { z } from 'zod';
import { moneySchema } from './money.ts';

const isoDate = z.iso.date();

/** A posted customer invoice, vendor bill or credit note with what is still open on it. */
export const invoiceSchema = z
  .object({
    id: z.string().min(1),
    entityId: z.string().min(1),
    number: z.string().min(1),
    kind: z.enum(['customer_invoice', 'vendor_bill', 'customer_credit_note', 'vendor_credit_note']),
    partnerId: z.string().min(1),
    amount: moneySchema,
    residual: moneySchema,
    dueDate: isoDate,
    invoiceDate: isoDate.optional(),
    paymentReference: z.string().optional(),
    odooMoveId: z.number().int().positive().optional(),
  })
  .refine((i) => i.amount.currency === i.residual.currency, {
    message: 'residual must be in the invoice currency',
    path: ['residual', 'currency'],
  })
  .refine(
    (i) =>
      (i.residual.amount < 0n ? -i.residual.amount : i.residual.amount) <=
      (i.amount.amount < 0n ? -i.amount.amount : i.amount.amount),
    {
      message: 'residual cannot exceed the invoice amount',
      path: ['residual', 'amount'],
    },
  );
export type Invoice = z.infer<typeof invoiceSchema>;

/** A payment received or made, as registered in Odoo. */
export const paymentSchema = z.object({
  id: z.string().min(1),
  entityId: z.string().min(1),
  direction: z.enum(['inbound', 'outbound']),
  partnerId: z.string().min(1).optional(),
  amount: moneySchema,
  date: isoDate,
  reference: z.string().optional(),
  endToEndId: z.string().max(35).optional(),
  invoiceIds: z.array(z.string()).default([]),
  odooPaymentId: z.number().int().positive().optional(),
});
export type Payment = z.infer<typeof paymentSchema>;

/**
 * Canonical bank statements: what every bank format (camt.05x, MT940/942, CSV) is parsed into.
 * Amounts are signed: credits positive, debits negative.
 */
import { z } from 'zod';
import { bicSchema, ibanSchema } from './iban.ts';
import { moneySchema } from './money.ts';

const isoDate = z.iso.date();

/** A balance on a date (opening, closing, interim, available). */
export const balanceSchema = z.object({
  amount: moneySchema,
  date: isoDate,
});
export type Balance = z.infer<typeof balanceSchema>;

/** The other side of a bank line. */
export const counterpartySchema = z.object({
  name: z.string().optional(),
  iban: ibanSchema.optional(),
  accountNumber: z.string().optional(),
  bic: bicSchema.optional(),
});
export type Counterparty = z.infer<typeof counterpartySchema>;

/** One transaction inside a batch entry (camt `TxDtls`); the entry's amount is their sum. */
export const transactionDetailSchema = z.object({
  amount: moneySchema.optional(),
  counterparty: counterpartySchema.optional(),
  remittanceInfo: z.string().optional(),
  creditorReference: z.string().optional(),
  endToEndId: z.string().optional(),
  instructionId: z.string().optional(),
  accountServicerRef: z.string().optional(),
  instructedAmount: moneySchema.optional(),
  exchangeRate: z.string().optional(),
});
export type TransactionDetail = z.infer<typeof transactionDetailSchema>;

/** One line (entry) of a statement. */
export const statementLineSchema = z.object({
  /** Stable identity of the entry within its account: the bank's reference, or a derived one. */
  entryRef: z.string().min(1),
  status: z.enum(['booked', 'pending', 'info']),
  bookingDate: isoDate,
  valueDate: isoDate.optional(),
  amount: moneySchema,
  counterparty: counterpartySchema.optional(),
  remittanceInfo: z.string().optional(),
  /** Structured creditor reference (ISO 11649 RF or a local scheme). */
  creditorReference: z.string().optional(),
  endToEndId: z.string().optional(),
  instructionId: z.string().optional(),
  accountServicerRef: z.string().optional(),
  bankTransactionCode: z.string().optional(),
  instructedAmount: moneySchema.optional(),
  exchangeRate: z.string().optional(),
  charges: moneySchema.optional(),
  /** The bank's own booking text or supplementary details (MT940 :86: free text, camt AddtlNtryInf). */
  bookingText: z.string().optional(),
  /** The single transactions of a batch entry; absent when the entry is one transaction. */
  transactions: z.array(transactionDetailSchema).optional(),
});
export type StatementLine = z.infer<typeof statementLineSchema>;

/** One statement (or report, or notification) of one account. */
export const statementSchema = z.object({
  statementId: z.string().min(1),
  kind: z.enum(['statement', 'report', 'notification']),
  format: z.string().min(1),
  account: z
    .object({
      iban: ibanSchema.optional(),
      accountNumber: z.string().optional(),
      bic: bicSchema.optional(),
      name: z.string().optional(),
      currency: z.string().regex(/^[A-Z]{3}$/),
    })
    .refine((a) => a.iban !== undefined || a.accountNumber !== undefined, {
      message: 'the statement account needs an iban or an accountNumber',
      path: ['iban'],
    }),
  createdAt: z.iso.datetime({ offset: true }).optional(),
  sequenceNumber: z.string().optional(),
  openingBalance: balanceSchema.optional(),
  closingBalance: balanceSchema.optional(),
  /** Closing available (camt CLAV, MT940 :64:) balance. */
  availableBalance: balanceSchema.optional(),
  /** Every balance the file states, by its type code (OPBD, CLBD, ITBD, CLAV, FWAV, PRCD…). */
  balances: z.array(balanceSchema.extend({ type: z.string().min(1) })).optional(),
  lines: z.array(statementLineSchema),
});
export type Statement = z.infer<typeof statementSchema>;

/** The CSV mapping profile: how one bank's CSV export maps onto statement lines (embeddable in kontor.yaml). */
import { z } from 'zod';

/** A column by 0-based position or by its header text. */
export const csvColumnSchema = z.union([z.number().int().min(0), z.string().min(1)]);
/** A column reference of a profile. */
export type CsvColumn = z.infer<typeof csvColumnSchema>;

/** One bank's CSV layout: the schema `kontor.yaml` embeds per bank account. */
export const csvProfileSchema = z
  .object({
    /** Field separator. */
    delimiter: z.string().length(1).default(','),
    /** Quote character around fields that hold the delimiter or line breaks. */
    quote: z.string().length(1).default('"'),
    encoding: z.enum(['utf-8', 'latin1', 'cp1252', 'auto']).default('auto'),
    /** Rows before the data; the last of them names the columns when columns are given by name. */
    headerRows: z.number().int().min(0).default(1),
    /**
     * Date layout with DD, MM, YYYY, YY tokens (D and M for days and months written without a
     * leading zero, e.g. PayPal's "M/D/YYYY"), e.g. "DD.MM.YYYY", "MM/DD/YYYY", "YYYYMMDD"; time
     * after the date is ignored.
     */
    dateFormat: z.string().min(4).default('YYYY-MM-DD'),
    decimalSeparator: z.enum(['.', ',']).default('.'),
    /** Grouping character to drop from amounts ("1,525.00"), if the bank writes one. */
    thousandsSeparator: z.enum(['', ',', '.', ' ', "'"]).default(''),
    /** Currency of the account (and of rows without a currency column). */
    currency: z.string().regex(/^[A-Z]{3}$/),
    /** Flip every sign, balances included (credit-card exports show purchases as positive). */
    invertSign: z.boolean().default(false),
    /**
     * Rows in another currency than the account's: `reject` the file (default), or `skip` them
     * (multi-currency exports such as Wise or PayPal list every currency balance in one file;
     * each currency is its own account and imports its own rows).
     */
    otherCurrencyRows: z.enum(['reject', 'skip']).default('reject'),
    /** Order of the rows, for the opening and closing balance of a `balance` column. */
    rowOrder: z.enum(['oldest-first', 'newest-first']).default('oldest-first'),
    /** Rows whose `skipWhen.column` equals one of `values` are not transactions (pending holds, declined…). */
    skipWhen: z.object({ column: csvColumnSchema, values: z.array(z.string()) }).optional(),
    columns: z
      .object({
        bookingDate: csvColumnSchema,
        valueDate: csvColumnSchema.optional(),
        /** A signed amount… */
        amount: csvColumnSchema.optional(),
        /** …or separate debit and credit columns… */
        debit: csvColumnSchema.optional(),
        credit: csvColumnSchema.optional(),
        /** …or an unsigned amount with a credit/debit marker column. */
        creditDebit: z
          .object({
            column: csvColumnSchema,
            credit: z.array(z.string()).min(1),
            debit: z.array(z.string()).min(1),
          })
          .optional(),
        currency: csvColumnSchema.optional(),
        remittanceInfo: z.array(csvColumnSchema).optional(),
        /** A column, or several of which the first non-empty one counts (payer for credits, payee for debits). */
        counterpartyName: z.union([csvColumnSchema, z.array(csvColumnSchema).min(1)]).optional(),
        counterpartyAccount: csvColumnSchema.optional(),
        reference: csvColumnSchema.optional(),
        /** The account this row belongs to, when the export carries it. */
        account: csvColumnSchema.optional(),
        instructedAmount: csvColumnSchema.optional(),
        instructedCurrency: csvColumnSchema.optional(),
        /** Fees the bank or PSP took for the row (already in its amount), kept as the line's charges. */
        charges: csvColumnSchema.optional(),
        /**
         * The account's balance after the row: the statement then gets an opening balance (before
         * its first row) and a closing balance (after its last), and must balance.
         */
        balance: csvColumnSchema.optional(),
      })
      .refine((c) => c.amount !== undefined || (c.debit !== undefined && c.credit !== undefined), {
        message: 'a profile needs an amount column, or both debit and credit columns',
        path: ['amount'],
      }),
  })
  .strict();

/** A validated CSV profile. */
export type CsvProfile = z.output<typeof csvProfileSchema>;
/** A CSV profile as written in configuration (defaults not yet applied). */
export type CsvProfileInput = z.input<typeof csvProfileSchema>;

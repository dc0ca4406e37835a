/** Builders of bank lines and open items for the engine's tests. */
import { parseMoney } from '../../../domain/index.ts';
import type { BankLine, OpenItem } from '../types.ts';

type LineOptions = Partial<Omit<BankLine, 'amount' | 'counterparty'>> & { iban?: string; currency?: string };

/** A bank line of `amount` (decimal string, signed) booked on 2026-03-10 by entity "e1". */
export function createLine(id: string, amount: string, options: LineOptions = {}): BankLine {
  const { iban, currency = 'EUR', ...rest } = options;
  return {
    id,
    accountId: 'acc1',
    entityId: 'e1',
    bookingDate: '2026-03-10',
    amount: parseMoney(amount, currency),
    ...(iban === undefined ? {} : { counterparty: { iban: iban as never } }),
    ...rest,
  };
}

type ItemOptions = Partial<Omit<OpenItem, 'amount' | 'residual'>> & { residual?: string; currency?: string };

/** An open customer invoice of `amount` (decimal string) for partner "p1", due 2026-03-01. */
export function createItem(id: string, amount: string, options: ItemOptions = {}): OpenItem {
  const { residual, currency = 'EUR', ...rest } = options;
  return {
    id,
    entityId: 'e1',
    number: `INV/2026/${id.padStart(4, '0')}`,
    kind: 'customer_invoice',
    partnerId: 'p1',
    amount: parseMoney(amount, currency),
    residual: parseMoney(residual ?? amount, currency),
    dueDate: '2026-03-01',
    ...rest,
  };
}

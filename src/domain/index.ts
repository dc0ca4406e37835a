/**
 * The canonical finance model: money, currencies, IBAN/BIC, parties, open items, statements
 * and payment orders, with their runtime schemas. Pure: no I/O, no clock.
 */
export * from './errors.ts';
export * from './result.ts';
export * from './clock.ts';
export * from './currency.ts';
export * from './money.ts';
export * from './iban.ts';
export * from './party.ts';
export * from './invoice.ts';
export * from './statement.ts';
export * from './payment-order.ts';
export * from './validate.ts';
export * from './ports.ts';

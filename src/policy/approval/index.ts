// Payment approval policy: the configurable rules (bands, entities, currencies, risk signals),
// their evaluation for one order, and segregation-of-duties checks on the approvals.
export * from './schema.ts';
export * from './evaluate.ts';
export * from './decide.ts';

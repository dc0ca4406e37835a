// Reconciliation: the pure matching engine that pairs bank lines with open items through indexes,
// scores and explains every match, and decides auto | proposal | exception. No I/O, no clock.
export type {
  Allocation,
  BankLine,
  MatchContext,
  MatchProposal,
  MatchReason,
  MatchStatus,
  OpenItem,
  RuleId,
  WriteOff,
} from './types.ts';
export {
  createDefaultRules,
  reconciliationRulesSchema,
  resolveToleranceMinor,
  ruleIds,
  type ReconciliationRules,
} from './rules.ts';
export { assertBalanced, matchLines, type MatchLinesInput } from './match-lines.ts';
export { buildOpenItemIndex, directionOf, type OpenItemIndex } from './open-item-index.ts';
export {
  createRfReference,
  extractReferenceCandidates,
  formatRfReference,
  hasValidRfCheckDigits,
  normaliseReference,
} from './reference.ts';
export { convertLineAmount } from './fx.ts';
export { findSubsets } from './subset-sum.ts';
export * from './flow/index.ts';

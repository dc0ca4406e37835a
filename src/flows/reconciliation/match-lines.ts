/** The matching engine: bank lines against open items through the index, rule by rule, with a score and an explanation. */
import { AppError, ErrorCodes, formatMoney, money } from '../../domain/index.ts';
import { convertLineAmount, type ConvertedAmount } from './fx.ts';
import {
  buildOpenItemIndex,
  type EntityIndex,
  findByAmount,
  type IndexedItem,
  isKeyLength,
  type OpenItemIndex,
  type ReferenceHit,
  toDayNumber,
} from './open-item-index.ts';
import {
  extractReferenceCandidates,
  formatRfReference,
  hasValidRfCheckDigits,
  isRfShaped,
  rfBody,
} from './reference.ts';
import { type ReconciliationRules, resolveToleranceMinor } from './rules.ts';
import { findSubsets } from './subset-sum.ts';
import type {
  Allocation,
  BankLine,
  MatchContext,
  MatchProposal,
  MatchReason,
  OpenItem,
  RuleId,
  WriteOff,
} from './types.ts';

/** What one rule concluded for one line, before the decision. */
interface Outcome {
  readonly rule: RuleId;
  readonly confidence: number;
  readonly reason?: MatchReason;
  readonly currency: string;
  /** The line's amount in `currency` (signed minor units). */
  readonly lineAmount: bigint;
  readonly basis: ConvertedAmount['basis'];
  readonly allocations: readonly { entry: IndexedItem; amount: bigint }[];
  readonly candidateIds?: readonly string[];
  /** Built only for the outcome that is kept: most outcomes are discarded. */
  readonly explain: () => string;
  /** The one partner the evidence points at, for the rules after this one. */
  readonly partnerHint?: string;
  /** Items the line quotes by an exact reference. */
  readonly referencedIds?: readonly string[];
}

/** Per-run state: what is still open on each item after the lines already matched in this run. */
interface RunState {
  readonly index: OpenItemIndex;
  readonly remaining: bigint[];
  readonly rules: ReconciliationRules;
  readonly context: MatchContext;
  readonly toleranceCache: Map<string, bigint>;
}

/** One line with the facts every rule needs, computed once. */
interface LineFacts {
  readonly line: BankLine;
  /** The index of the line's entity; undefined when the entity has no open items. */
  readonly entity: EntityIndex | undefined;
  readonly day: number;
  /** Partner known from the counterparty IBAN, if any. */
  readonly ibanPartner: string | undefined;
  /** Reference candidates of the line's texts, extracted on first use and kept for the second pass. */
  tokens: string[] | undefined;
  /** Conversions into item currencies, filled on first use (most lines need none). */
  conversions: Map<string, ConvertedAmount | undefined> | undefined;
  readonly same: ConvertedAmount;
}

const abs = (v: bigint): bigint => (v < 0n ? -v : v);

function tolerance(
  state: RunState,
  currency: string,
  amount: bigint,
  basis: ConvertedAmount['basis'],
): bigint {
  let base = state.toleranceCache.get(currency);
  if (base === undefined) {
    base = resolveToleranceMinor(state.rules, currency);
    state.toleranceCache.set(currency, base);
  }
  // A provided rate is not the rate the bank booked at: widen by basis points of the amount.
  if (basis === 'rate') return base + (abs(amount) * BigInt(state.rules.tolerance.fxBasisPoints)) / 10_000n;
  return base;
}

function convert(facts: LineFacts, currency: string, context: MatchContext): ConvertedAmount | undefined {
  if (currency === facts.line.amount.currency) return facts.same;
  facts.conversions ??= new Map();
  if (facts.conversions.has(currency)) return facts.conversions.get(currency);
  const c = convertLineAmount(facts.line, currency, context);
  facts.conversions.set(currency, c);
  return c;
}

const kindLabel: Record<OpenItem['kind'], string> = {
  customer_invoice: 'invoice',
  vendor_bill: 'bill',
  customer_credit_note: 'credit note',
  vendor_credit_note: 'credit note',
};

// An arrow passed as an argument stays anonymous: tsx (esbuild keepNames) wraps every named
// closure in a defineProperty call, a visible cost when one is made per line and rule.
const lazyText = (build: () => string): (() => string) => build;

const show = (amount: bigint, currency: string): string =>
  `${formatMoney(money(amount, currency))} ${currency}`;
const label = (e: IndexedItem): string => `${kindLabel[e.item.kind]} ${e.item.number}`;

function basisNote(c: ConvertedAmount, currency: string): string {
  if (c.basis === 'instructed') return `; instructed amount ${show(c.amount, currency)}`;
  if (c.basis === 'rate') return `; converted at the provided rate ${c.rate} to ${show(c.amount, currency)}`;
  return '';
}

function dayNote(facts: LineFacts, e: IndexedItem): string {
  const d = facts.day - e.dueDay;
  if (d === 0) return '; paid on the due date';
  return d > 0 ? `; paid ${d} days after the due date` : `; paid ${-d} days before the due date`;
}

/**
 * Judges one uniquely identified item against the line: equal, within tolerance (write-off), smaller
 * (partial payment) or larger than what is open. `base` is the confidence of how the item was found.
 */
function judgeSingle(
  state: RunState,
  facts: LineFacts,
  entry: IndexedItem,
  rule: RuleId,
  base: number,
  evidence: () => string,
): Outcome | undefined {
  const c = convert(facts, entry.currency, state.context);
  const ids = [entry.item.id];
  if (c === undefined) {
    return {
      rule,
      confidence: 0,
      reason: 'CURRENCY_MISMATCH',
      currency: facts.line.amount.currency,
      lineAmount: facts.line.amount.amount,
      basis: 'same',
      allocations: [],
      candidateIds: ids,
      explain: lazyText(
        () =>
          `${evidence()} ${label(entry)} in ${entry.currency}, but the line is in ${facts.line.amount.currency} with no instructed amount or rate`,
      ),
    };
  }
  const rem = state.remaining[entry.ordinal]!;
  const lineAmount = c.amount;
  const currency = entry.currency;
  const common = { rule, currency: entry.currency, lineAmount, basis: c.basis };
  if (rem === 0n || lineAmount === 0n || rem > 0n !== lineAmount > 0n) {
    return {
      ...common,
      confidence: 0.1,
      reason: 'AMOUNT_MISMATCH',
      allocations: [],
      candidateIds: ids,
      explain: lazyText(
        () =>
          `${evidence()} ${label(entry)}${basisNote(c, currency)}; but ${rem === 0n ? 'it is already fully allocated in this run' : 'the line goes the other way'}`,
      ),
    };
  }
  // The partner behind the IBAN and the item's partner disagree: a third party paying, or a
  // mistyped reference that hit someone else's invoice. A person decides.
  const partnerClash = facts.ibanPartner !== undefined && facts.ibanPartner !== entry.item.partnerId;
  const partnerAgrees = facts.ibanPartner !== undefined && !partnerClash;
  const ceiling = partnerClash ? 0.6 : 1;
  const clashReason: MatchReason | undefined = partnerClash ? 'PARTNER_MISMATCH' : undefined;
  const clashNote = partnerClash ? `; but the counterparty IBAN belongs to partner ${facts.ibanPartner}` : '';
  const diff = lineAmount - rem;
  const tol = tolerance(state, entry.currency, lineAmount, c.basis);
  const approx = c.basis === 'rate' ? 0.03 : 0;
  if (diff === 0n) {
    return {
      ...common,
      confidence: Math.min(ceiling, base - approx),
      reason: clashReason,
      allocations: [{ entry, amount: rem }],
      explain: lazyText(
        () =>
          `${evidence()} ${label(entry)}${basisNote(c, currency)}; amount equal${partnerAgrees ? '; partner confirmed by IBAN' : ''}${clashNote}`,
      ),
    };
  }
  if (abs(diff) <= tol) {
    return {
      ...common,
      confidence: Math.min(ceiling, base - 0.04 - approx),
      reason: clashReason,
      allocations: [{ entry, amount: rem }],
      explain: lazyText(
        () =>
          `${evidence()} ${label(entry)}${basisNote(c, currency)}; difference ${show(diff, entry.currency)} within tolerance, written off${clashNote}`,
      ),
    };
  }
  if (abs(lineAmount) < abs(rem)) {
    // A partial payment is trusted only when the item was identified by reference and the payer is
    // the item's partner; a mistyped reference hitting another invoice looks exactly like this.
    const confidence =
      rule === 'reference' && partnerAgrees && c.basis !== 'rate' ? base - 0.06 : Math.min(base, 0.8) - 0.1;
    return {
      ...common,
      confidence: Math.min(ceiling, confidence),
      reason: clashReason ?? 'PARTIAL_PAYMENT',
      allocations: [{ entry, amount: lineAmount }],
      explain: lazyText(
        () =>
          `${evidence()} ${label(entry)}${basisNote(c, currency)}; partial payment of ${show(lineAmount, entry.currency)}, ${show(rem - lineAmount, entry.currency)} stays open${partnerAgrees ? '; partner confirmed by IBAN' : ''}${clashNote}`,
      ),
    };
  }
  return {
    ...common,
    confidence: 0.2,
    reason: 'AMOUNT_MISMATCH',
    allocations: [],
    candidateIds: ids,
    explain: lazyText(
      () =>
        `${evidence()} ${label(entry)}${basisNote(c, currency)}; but the line exceeds the open ${show(rem, entry.currency)} by ${show(diff, entry.currency)}`,
    ),
  };
}

/** Rule 1: structured reference (valid RF), payment reference or number, in the remittance text or the bank's reference fields. */
function matchByReference(state: RunState, facts: LineFacts): Outcome | undefined {
  const { line, entity } = facts;
  if (entity === undefined) return undefined;
  const tokens = (facts.tokens ??= extractReferenceCandidates(
    [line.creditorReference, line.endToEndId, line.remittanceInfo],
    entity.maxKeyLength,
  ));
  // Plain arrays: a line references one or two items, and this runs for every line.
  let hits: Hit[] | undefined;
  let weak: Hit[] | undefined;
  for (const token of tokens) {
    if (isRfShaped(token) && !hasValidRfCheckDigits(token)) {
      // A wrong check digit is never an exact match; the body alone is at most a hint.
      if (!isKeyLength(entity.bodyLengths, token.length - 4)) continue;
      const found = entity.byRfBody.get(rfBody(token));
      if (found === undefined) continue;
      for (const entry of found) {
        if (!containsEntry((weak ??= []), entry)) weak.push({ entry, via: 'rf', token });
      }
      continue;
    }
    if (!isKeyLength(entity.keyLengths, token.length)) continue;
    const found = entity.byReference.get(token);
    if (found === undefined) continue;
    for (const hit of found) {
      if (!containsEntry((hits ??= []), hit.entry)) hits.push({ entry: hit.entry, via: hit.via, token });
    }
  }
  if (hits === undefined) {
    if (weak?.length !== 1) return undefined;
    const { entry, token } = weak[0]!;
    const outcome = judgeSingle(
      state,
      facts,
      entry,
      'reference',
      0.6,
      lazyText(() => `${formatRfReference(token)} (wrong check digits) resembles`),
    );
    return outcome && { ...outcome, reason: outcome.reason ?? 'REFERENCE_CHECK_FAILED' };
  }
  let outcome: Outcome | undefined;
  if (hits.length === 1) {
    const { entry, via, token } = hits[0]!;
    const evidence = lazyText(() =>
      via === 'rf'
        ? `${formatRfReference(token)} matched`
        : via === 'payment-reference'
          ? `payment reference ${entry.item.paymentReference ?? token} matched`
          : `number ${entry.item.number} matched`,
    );
    outcome = judgeSingle(state, facts, entry, 'reference', 0.99, evidence);
  } else {
    outcome = judgeReferencedGroup(
      state,
      facts,
      hits.map((h) => h.entry),
    );
  }
  if (outcome === undefined) return undefined;
  const partnerHint = hits[0]!.entry.item.partnerId;
  const samePartner = hits.every((h) => h.entry.item.partnerId === partnerHint);
  return {
    ...outcome,
    ...(samePartner ? { partnerHint } : {}),
    referencedIds: hits.map((h) => h.entry.item.id),
  };
}

/** An item a line's reference points at, and how. */
interface Hit {
  readonly entry: IndexedItem;
  readonly via: ReferenceHit['via'];
  readonly token: string;
}

function containsEntry(list: readonly Hit[], entry: IndexedItem): boolean {
  for (const h of list) if (h.entry === entry) return true;
  return false;
}

/** Several items referenced by one line: the line pays them together (credit notes netted), or a subset of them. */
function judgeReferencedGroup(
  state: RunState,
  facts: LineFacts,
  entries: IndexedItem[],
): Outcome | undefined {
  const currency = entries[0]!.currency;
  const ids = entries.map((e) => e.item.id);
  const c = convert(facts, currency, state.context);
  const open = entries.filter((e) => e.currency === currency && state.remaining[e.ordinal]! !== 0n);
  if (c === undefined || open.length < 2) {
    return {
      rule: 'reference',
      confidence: 0.2,
      reason: c === undefined ? 'CURRENCY_MISMATCH' : 'AMBIGUOUS',
      currency: facts.line.amount.currency,
      lineAmount: facts.line.amount.amount,
      basis: 'same',
      allocations: [],
      candidateIds: ids,
      explain: lazyText(
        () =>
          `references matched ${entries.map(label).join(', ')}, which cannot be paid together by this line`,
      ),
    };
  }
  const values = open.map((e) => state.remaining[e.ordinal]!);
  const total = values.reduce((a, b) => a + b, 0n);
  const partners = new Set(open.map((e) => e.item.partnerId));
  const samePartner =
    partners.size === 1 && (facts.ibanPartner === undefined || partners.has(facts.ibanPartner));
  const tol = tolerance(state, currency, c.amount, c.basis);
  const common = { rule: 'reference' as const, currency, lineAmount: c.amount, basis: c.basis };

  if (abs(c.amount - total) <= tol) {
    const equal = c.amount === total;
    return {
      ...common,
      confidence: (samePartner ? 0.97 : 0.6) - (equal ? 0 : 0.03) - (c.basis === 'rate' ? 0.03 : 0),
      ...(samePartner ? {} : { reason: 'PARTNER_MISMATCH' as const }),
      allocations: open.map((entry, i) => ({ entry, amount: values[i]! })),
      explain: lazyText(
        () =>
          `references matched ${open.map(label).join(', ')}${basisNote(c, currency)}; ${equal ? 'amounts add up' : `difference ${show(c.amount - total, currency)} within tolerance, written off`}`,
      ),
    };
  }
  const found = findSubsets(values, c.amount, {
    minSize: 1,
    maxSize: state.rules.combination.maxSubsetSize,
    maxIterations: state.rules.combination.maxIterations,
    maxSolutions: 2,
  });
  const [only] = found.solutions;
  if (only !== undefined && found.solutions.length === 1 && !found.truncated) {
    const chosen = only.map((i) => open[i]!);
    return {
      ...common,
      confidence: samePartner ? 0.9 : 0.55,
      ...(samePartner ? {} : { reason: 'PARTNER_MISMATCH' as const }),
      allocations: chosen.map((entry) => ({ entry, amount: state.remaining[entry.ordinal]! })),
      explain: lazyText(
        () =>
          `references matched ${open.map(label).join(', ')}${basisNote(c, currency)}; of these ${chosen.map(label).join(', ')} add up to the amount`,
      ),
    };
  }
  return {
    ...common,
    confidence: 0.2,
    reason: found.solutions.length > 1 ? 'AMBIGUOUS' : 'AMOUNT_MISMATCH',
    allocations: [],
    candidateIds: ids,
    explain: lazyText(
      () =>
        `references matched ${open.map(label).join(', ')}${basisNote(c, currency)}; ${found.solutions.length > 1 ? 'several combinations' : 'no combination'} of them add up to the amount`,
    ),
  };
}

/** The partner's items with something left open, in the direction of the line, or undefined when the partner is too large to scan. */
function partnerItems(state: RunState, facts: LineFacts, partnerId: string): IndexedItem[] | undefined {
  const all = facts.entity?.byPartner.get(partnerId) ?? [];
  if (all.length > state.rules.maxPartnerScan) return undefined;
  return all.filter((e) => state.remaining[e.ordinal]! !== 0n);
}

/** Rule 2: counterparty IBAN → partner, then amount (exact or within tolerance), then date proximity. */
function matchByPartnerAmount(state: RunState, facts: LineFacts): Outcome | undefined {
  const partnerId = facts.ibanPartner;
  if (partnerId === undefined) return undefined;
  const direction = facts.line.amount.amount > 0n;
  const scanned = partnerItems(state, facts, partnerId);
  // A partner too large to scan is searched through the exact-amount index only.
  const items =
    scanned ??
    (facts.entity
      ? findByAmount(facts.entity, facts.line.amount.currency, facts.line.amount.amount)
      : []
    ).filter((e) => e.item.partnerId === partnerId && state.remaining[e.ordinal] === e.residual);
  const exact: IndexedItem[] = [];
  const near: IndexedItem[] = [];
  const sameWay: IndexedItem[] = [];
  for (const e of items) {
    const rem = state.remaining[e.ordinal]!;
    if (rem > 0n !== direction) continue;
    sameWay.push(e);
    const c = convert(facts, e.currency, state.context);
    if (c === undefined) continue;
    const diff = c.amount - rem;
    if (diff === 0n) exact.push(e);
    else if (abs(diff) <= tolerance(state, e.currency, c.amount, c.basis)) near.push(e);
  }
  const evidence = 'IBAN → partner ' + partnerId + ';';
  const pick = exact.length > 0 ? exact : near;
  if (pick.length === 1) {
    const entry = pick[0]!;
    const outcome = judgeSingle(
      state,
      facts,
      entry,
      'partner-amount',
      0.95,
      lazyText(() => `${evidence} amount points at`),
    );
    if (outcome === undefined) return undefined;
    const near = Math.abs(facts.day - entry.dueDay) <= state.rules.dateProximityDays;
    return {
      ...outcome,
      confidence: outcome.confidence + (near ? 0.01 : -0.01),
      explain: lazyText(() => outcome.explain() + dayNote(facts, entry)),
    };
  }
  if (pick.length > 1) {
    // Same partner, same amount, no reference: the due date ranks them, but a person chooses. No
    // allocation is reserved, so a later line quoting one of them by reference still finds it.
    pick.sort(
      (a, b) => Math.abs(facts.day - a.dueDay) - Math.abs(facts.day - b.dueDay) || a.ordinal - b.ordinal,
    );
    const best = pick[0]!;
    const c = convert(facts, best.currency, state.context);
    return {
      rule: 'partner-amount',
      confidence: 0.5,
      reason: 'AMBIGUOUS',
      currency: best.currency,
      lineAmount: c?.amount ?? facts.line.amount.amount,
      basis: c?.basis ?? 'same',
      allocations: [],
      candidateIds: pick.map((e) => e.item.id),
      explain: lazyText(
        () =>
          `${evidence} ${pick.length} open items fit the amount (${pick.map(label).join(', ')}); nearest due date: ${label(best)}${dayNote(facts, best)}`,
      ),
    };
  }
  if (sameWay.length === 1) {
    // The partner's only open item, paid in part: likely, never certain without a reference.
    const outcome = judgeSingle(
      state,
      facts,
      sameWay[0]!,
      'partner-amount',
      0.75,
      lazyText(() => `${evidence} the only open item is`),
    );
    if (outcome && outcome.allocations.length > 0)
      return { ...outcome, confidence: Math.min(outcome.confidence, 0.75) };
  }
  return undefined;
}

/** Rule 3: one line paying several items of the partner (credit notes netted): bounded subset sum. */
function matchByPartnerCombination(
  state: RunState,
  facts: LineFacts,
  refPartner: string | undefined,
): Outcome | undefined {
  const partnerId = facts.ibanPartner ?? refPartner;
  if (partnerId === undefined) return undefined;
  const items = partnerItems(state, facts, partnerId);
  if (items === undefined || items.length < 2) return undefined;
  const { combination } = state.rules;
  // One currency per combination: the line's own, else the one the bank instructed.
  const currency = items.some((e) => e.currency === facts.line.amount.currency)
    ? facts.line.amount.currency
    : (facts.line.instructedAmount?.currency ?? facts.line.amount.currency);
  const c = convert(facts, currency, state.context);
  if (c === undefined || c.basis === 'rate') return undefined;
  const pool = items.filter((e) => e.currency === currency);
  // Nearest due dates first: a combined payment usually settles what is due now.
  pool.sort(
    (a, b) => Math.abs(facts.day - a.dueDay) - Math.abs(facts.day - b.dueDay) || a.ordinal - b.ordinal,
  );
  const considered = pool.slice(0, combination.maxItems);
  if (considered.length < 2) return undefined;
  const values = considered.map((e) => state.remaining[e.ordinal]!);
  const found = findSubsets(values, c.amount, {
    minSize: 2,
    maxSize: combination.maxSubsetSize,
    maxIterations: combination.maxIterations,
    maxSolutions: 2,
  });
  const [first] = found.solutions;
  if (first === undefined) return undefined;
  const chosen = first.map((i) => considered[i]!);
  const unique = found.solutions.length === 1 && !found.truncated && pool.length <= combination.maxItems;
  const via =
    facts.ibanPartner !== undefined
      ? `IBAN → partner ${partnerId}`
      : `partner ${partnerId} from the reference`;
  const netted = chosen.some((e) => e.residual < 0n !== c.amount < 0n) ? ' (credit notes netted)' : '';
  const confidence = unique ? (facts.ibanPartner !== undefined ? 0.92 : 0.85) : 0.4;
  return {
    rule: 'partner-combination',
    confidence,
    ...(unique
      ? facts.ibanPartner !== undefined
        ? {}
        : { reason: 'WEAK_EVIDENCE' as const }
      : {
          reason:
            found.truncated || pool.length > combination.maxItems
              ? ('SEARCH_LIMIT_REACHED' as const)
              : ('AMBIGUOUS' as const),
        }),
    currency,
    lineAmount: c.amount,
    basis: c.basis,
    // Several combinations fit: nothing is reserved; a single one found by a cut-off search is proposed.
    allocations:
      found.solutions.length > 1
        ? []
        : chosen.map((entry) => ({ entry, amount: state.remaining[entry.ordinal]! })),
    ...(unique
      ? {}
      : { candidateIds: [...new Set(found.solutions.flat().map((i) => considered[i]!.item.id))] }),
    explain: lazyText(
      () =>
        `${via}; ${chosen.map(label).join(' + ')}${netted} add up to the amount${basisNote(c, currency)}${unique ? '' : found.solutions.length > 1 ? '; other combinations fit too' : '; search bounded'}`,
    ),
  };
}

/** Rule 4: the amount alone, through the amount index; never more than a proposal. */
function matchByAmountOnly(state: RunState, facts: LineFacts): Outcome | undefined {
  const { line } = facts;
  const currencies = [line.amount.currency];
  if (line.instructedAmount !== undefined && line.instructedAmount.currency !== line.amount.currency) {
    currencies.push(line.instructedAmount.currency);
  }
  for (const currency of currencies) {
    const c = convert(facts, currency, state.context);
    if (c === undefined) continue;
    const found = (facts.entity ? findByAmount(facts.entity, currency, c.amount) : []).filter(
      (e) => state.remaining[e.ordinal] === e.residual,
    );
    if (found.length === 1) {
      const outcome = judgeSingle(
        state,
        facts,
        found[0]!,
        'amount-only',
        0.6,
        lazyText(() => 'only the amount points at'),
      );
      return (
        outcome && {
          ...outcome,
          confidence: Math.min(outcome.confidence, 0.6),
          reason: outcome.reason ?? 'WEAK_EVIDENCE',
        }
      );
    }
    if (found.length > 1) {
      return {
        rule: 'amount-only',
        confidence: 0.1,
        reason: 'AMBIGUOUS',
        currency,
        lineAmount: c.amount,
        basis: c.basis,
        allocations: [],
        candidateIds: found.slice(0, 20).map((e) => e.item.id),
        explain: lazyText(
          () => `${found.length} open items have this amount and nothing else identifies one`,
        ),
      };
    }
  }
  return undefined;
}

/** Throws when a proposal's amounts do not add up: sum(allocations) + write-off must equal the line amount exactly. */
export function assertBalanced(proposal: MatchProposal): void {
  if (proposal.status === 'exception' && proposal.allocations.length === 0) return;
  const currency = proposal.lineAmount.currency;
  let total = proposal.writeOff?.amount.amount ?? 0n;
  const currencies = [
    proposal.writeOff?.amount.currency ?? currency,
    ...proposal.allocations.map((a) => a.amount.currency),
  ];
  for (const a of proposal.allocations) total += a.amount.amount;
  if (
    total !== proposal.lineAmount.amount ||
    currencies.some((c) => c !== currency) ||
    proposal.allocations.length === 0
  ) {
    throw new AppError(
      ErrorCodes.RECONCILIATION_UNBALANCED,
      `proposal for line ${proposal.lineId} does not add up: allocations and write-off ${total} ≠ line ${proposal.lineAmount.amount} ${currency}`,
      { details: { lineId: proposal.lineId } },
    );
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function toProposal(
  state: RunState,
  facts: LineFacts,
  outcome: Outcome | undefined,
  status: MatchProposal['status'],
): MatchProposal {
  const { line } = facts;
  if (outcome === undefined || status === 'exception') {
    return {
      lineId: line.id,
      status: 'exception',
      confidence: outcome?.confidence ?? 0,
      reason: outcome?.reason ?? 'NO_CANDIDATE',
      ...(outcome?.rule ? { rule: outcome.rule } : {}),
      lineAmount: line.amount,
      allocations: [],
      ...((outcome?.candidateIds ?? outcome?.allocations.length)
        ? { candidateIds: outcome.candidateIds ?? outcome.allocations.map((a) => a.entry.item.id) }
        : {}),
      explanation: outcome?.explain() ?? 'no open item matches the reference, the counterparty or the amount',
    };
  }
  const allocations: Allocation[] = outcome.allocations.map(({ entry, amount }) => ({
    itemId: entry.item.id,
    itemNumber: entry.item.number,
    amount: money(amount, outcome.currency),
  }));
  const allocated = outcome.allocations.reduce((t, a) => t + a.amount, 0n);
  const difference = outcome.lineAmount - allocated;
  let writeOff: WriteOff | undefined;
  if (difference !== 0n) {
    if (abs(difference) > tolerance(state, outcome.currency, outcome.lineAmount, outcome.basis)) {
      throw new AppError(
        ErrorCodes.RECONCILIATION_UNBALANCED,
        `write-off ${difference} for line ${line.id} exceeds the tolerance`,
      );
    }
    const fx = outcome.basis === 'rate';
    writeOff = {
      amount: money(difference, outcome.currency),
      account: fx ? state.rules.writeOffAccounts.fxDifference : state.rules.writeOffAccounts.bankCharges,
      kind: fx ? 'fx-difference' : 'bank-charges',
    };
  }
  const reason = status === 'auto' ? undefined : (outcome.reason ?? 'WEAK_EVIDENCE');
  // Optional fields are assigned rather than spread in: this object is made once per line, and
  // conditional spreads allocate and copy.
  const proposal: Mutable<MatchProposal> = {
    lineId: line.id,
    status,
    confidence: Math.round(outcome.confidence * 1000) / 1000,
    rule: outcome.rule,
    lineAmount: money(outcome.lineAmount, outcome.currency),
    allocations,
    explanation: outcome.explain(),
  };
  if (reason !== undefined) proposal.reason = reason;
  if (writeOff !== undefined) proposal.writeOff = writeOff;
  if (outcome.candidateIds !== undefined) proposal.candidateIds = outcome.candidateIds;
  assertBalanced(proposal);
  // Reserve what this proposal allocates, so no later line of the run can allocate it again.
  for (const { entry, amount } of outcome.allocations) {
    const rem = state.remaining[entry.ordinal]!;
    if (abs(amount) > abs(rem) || amount > 0n !== rem > 0n) {
      throw new AppError(
        ErrorCodes.RECONCILIATION_UNBALANCED,
        `line ${line.id} would over-allocate ${entry.item.number}`,
      );
    }
    state.remaining[entry.ordinal] = rem - amount;
  }
  return proposal;
}

function normaliseIban(iban: string | undefined): string | undefined {
  if (iban === undefined) return undefined;
  // Parsed IBANs are already electronic format; only hand-typed ones need the regex.
  return /^[A-Z0-9]+$/.test(iban) ? iban : iban.replace(/\s+/g, '').toUpperCase();
}

function isIndex(value: readonly OpenItem[] | OpenItemIndex): value is OpenItemIndex {
  return !Array.isArray(value);
}

function hasWriteOff(outcome: Outcome): boolean {
  let total = 0n;
  for (const a of outcome.allocations) total += a.amount;
  return total !== outcome.lineAmount;
}

function isAutoWithWriteOff(outcome: Outcome, threshold: number): boolean {
  return outcome.confidence >= threshold && outcome.allocations.length > 0 && hasWriteOff(outcome);
}

/** Runs the rules on one line and returns the outcome to act on: the first automatic one, else the most confident. */
function evaluateLine(state: RunState, facts: LineFacts, pipeline: readonly RuleId[]): Outcome | undefined {
  const { autoThreshold } = state.rules;
  let best: Outcome | undefined;
  let reference: Outcome | undefined;
  for (const rule of pipeline) {
    let outcome: Outcome | undefined;
    switch (rule) {
      case 'reference':
        outcome = reference = matchByReference(state, facts);
        break;
      case 'partner-amount':
        outcome = matchByPartnerAmount(state, facts);
        break;
      case 'partner-combination':
        outcome = matchByPartnerCombination(state, facts, reference?.partnerHint);
        break;
      case 'amount-only':
        outcome = matchByAmountOnly(state, facts);
        break;
    }
    if (outcome === undefined) continue;
    const auto = outcome.confidence >= autoThreshold && outcome.allocations.length > 0;
    // An automatic match that needs a write-off does not stop the search: a later rule may explain
    // the whole amount exactly (an invoice and a small credit note look like an invoice and a fee).
    if (auto && best !== undefined && isAutoWithWriteOff(best, autoThreshold) && !hasWriteOff(outcome)) {
      best = outcome;
      break;
    }
    if (best === undefined || outcome.confidence > best.confidence) best = outcome;
    if (auto && !hasWriteOff(outcome)) break;
  }
  return best && capAgainstReference(state, facts, best, reference);
}

/**
 * A line that quotes an item of its own partner by exact reference is not auto-matched to other
 * items of that partner: the quoted item is already paid, or the amounts disagree, and a person
 * should see why. A reference hitting another partner's item (a typo) does not hold the line back.
 */
function capAgainstReference(
  state: RunState,
  facts: LineFacts,
  best: Outcome,
  reference: Outcome | undefined,
): Outcome {
  const quoted = reference?.referencedIds;
  if (best.rule === 'reference' || quoted === undefined || best.confidence < state.rules.autoThreshold)
    return best;
  if (reference?.partnerHint === undefined) return best;
  if (facts.ibanPartner !== undefined && facts.ibanPartner !== reference.partnerHint) return best;
  if (best.allocations.some((a) => quoted.includes(a.entry.item.id))) return best;
  return {
    ...best,
    confidence: Math.min(best.confidence, state.rules.autoThreshold - 0.05),
    reason: 'REFERENCE_CONFLICT',
    explain: lazyText(
      () =>
        `${best.explain()}; but the line quotes ${quoted.length === 1 ? 'another item' : 'other items'} of the partner`,
    ),
  };
}

/** Input of {@link matchLines}. */
export interface MatchLinesInput {
  readonly lines: readonly BankLine[];
  readonly openItems: readonly OpenItem[] | OpenItemIndex;
  readonly rules: ReconciliationRules;
  readonly context?: MatchContext;
}

/**
 * Matches bank lines against open items: one proposal per line, in line order, each line seeing
 * what earlier lines of the run already allocated. Pure and deterministic.
 */
export function matchLines(input: MatchLinesInput): MatchProposal[] {
  const index = isIndex(input.openItems) ? input.openItems : buildOpenItemIndex(input.openItems);
  const context = input.context ?? {};
  const state: RunState = {
    index,
    remaining: index.entries.map((e) => e.residual),
    rules: input.rules,
    context,
    toleranceCache: new Map(),
  };
  const { autoThreshold, proposalThreshold, pipeline } = input.rules;
  const out: MatchProposal[] = new Array<MatchProposal>(input.lines.length);
  const facts = input.lines.map((line): LineFacts => {
    const iban = normaliseIban(line.counterparty?.iban);
    return {
      line,
      entity: index.byEntity.get(line.entityId),
      day: toDayNumber(line.valueDate ?? line.bookingDate),
      ibanPartner: iban === undefined ? undefined : context.partnerByIban?.get(iban),
      tokens: undefined,
      conversions: undefined,
      same: { amount: line.amount.amount, basis: 'same' },
    };
  });
  // Pass 1: the first rule (the reference, by default) gets first pick over the whole statement,
  // so a line that quotes an invoice is not beaten to it by an earlier line matched on weaker evidence.
  const first = pipeline.slice(0, 1);
  for (let i = 0; i < facts.length; i++) {
    const best = evaluateLine(state, facts[i]!, first);
    if (best !== undefined && best.confidence >= autoThreshold && best.allocations.length > 0) {
      out[i] = toProposal(state, facts[i]!, best, 'auto');
    }
  }
  // Pass 2: every other line through the whole pipeline, in statement order.
  for (let i = 0; i < facts.length; i++) {
    if (out[i] !== undefined) continue;
    const best = evaluateLine(state, facts[i]!, pipeline);
    const status: MatchProposal['status'] =
      best === undefined || best.allocations.length === 0 || best.confidence < proposalThreshold
        ? 'exception'
        : best.confidence >= autoThreshold
          ? 'auto'
          : 'proposal';
    out[i] = toProposal(state, facts[i]!, best, status);
  }
  return out;
}

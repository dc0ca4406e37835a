/** Bounded subset sum: which few open items of one partner add up to a bank line (credit notes count negative). */

/** What the search found within its bounds. */
export interface SubsetSearchResult {
  /** Up to `maxSolutions` solutions, each a list of indexes into the values, ascending. */
  readonly solutions: number[][];
  /** True when the search stopped at `maxIterations` before it had looked at every subset. */
  readonly truncated: boolean;
}

/** Bounds of one search. */
export interface SubsetSearchLimits {
  readonly minSize: number;
  readonly maxSize: number;
  readonly maxIterations: number;
  /** Stop after this many solutions; 2 is enough to know a match is not unique. */
  readonly maxSolutions: number;
}

/**
 * Finds subsets of `values` (signed minor units) that add up to `target` exactly, by depth-first
 * search with range pruning, within the given size and step bounds.
 */
export function findSubsets(
  values: readonly bigint[],
  target: bigint,
  limits: SubsetSearchLimits,
): SubsetSearchResult {
  const n = values.length;
  // Suffix sums of the positive and negative values bound what the rest can still add, which
  // prunes correctly even with mixed signs (invoices and credit notes together).
  const posSuffix = new Array<bigint>(n + 1).fill(0n);
  const negSuffix = new Array<bigint>(n + 1).fill(0n);
  for (let i = n - 1; i >= 0; i--) {
    const v = values[i]!;
    posSuffix[i] = posSuffix[i + 1]! + (v > 0n ? v : 0n);
    negSuffix[i] = negSuffix[i + 1]! + (v < 0n ? v : 0n);
  }
  const solutions: number[][] = [];
  const chosen: number[] = [];
  let steps = 0;
  let truncated = false;

  const visit = (start: number, total: bigint): boolean => {
    if (++steps > limits.maxIterations) {
      truncated = true;
      return false;
    }
    if (total === target && chosen.length >= limits.minSize) {
      solutions.push([...chosen]);
      if (solutions.length >= limits.maxSolutions) return false;
    }
    if (chosen.length >= limits.maxSize) return true;
    for (let i = start; i < n; i++) {
      if (target < total + negSuffix[i]! || target > total + posSuffix[i]!) return true;
      chosen.push(i);
      const go = visit(i + 1, total + values[i]!);
      chosen.pop();
      if (!go) return false;
    }
    return true;
  };
  visit(0, 0n);
  return { solutions, truncated };
}

/** Time and identifiers are injected so that pure code and tests stay deterministic. */

/** Reads the current time. */
export interface Clock {
  now(): Date;
}

/** Makes new unique identifiers. */
export interface IdGenerator {
  next(): string;
}

/** A clock that always answers the same instant, for tests. */
export function fixedClock(
  at: Date | number,
): Clock & { set(at: Date | number): void; advance(ms: number): void } {
  let current = typeof at === 'number' ? at : at.getTime();
  return {
    now: () => new Date(current),
    set: (to) => {
      current = typeof to === 'number' ? to : to.getTime();
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

/** Deterministic ids `prefix_1`, `prefix_2`…, for tests. */
export function sequentialIds(prefix = 'id'): IdGenerator {
  let n = 0;
  return { next: () => `${prefix}_${++n}` };
}

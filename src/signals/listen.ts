/**
 * The one rule that says what a single listen means. Every stage that asks "was this a stream or a
 * quick skip?" — the snapshot, serving's fold-in, the bandit's rewards, the evaluations — calls
 * {@link listenSignal}; nothing else restates the thresholds.
 */

/** What one listen says about its (user, track): +1 a stream (interest), −1 a quick skip, 0 neither. */
export type ListenSignal = 1 | -1 | 0;
export const STREAM = 1 as const;
export const QUICK_SKIP = -1 as const;
export const NEITHER = 0 as const;

/** The two thresholds of the rule (config `signals.minStreamMs`, `signals.quickSkipMs`; the config ensures quickSkipMs ≤ minStreamMs). */
export interface ListenRule {
  /** A listen at least this long (ms) is a stream. */
  minStreamMs: number;
  /** A listen shorter than this (ms), or flagged skipped, is a quick skip. */
  quickSkipMs: number;
}

/**
 * Classify one listen of `msPlayed` ms: flagged skipped or shorter than `quickSkipMs` → quick skip
 * (−1); else at least `minStreamMs` → stream (+1); else neither (0: too short to mean anything).
 * `skipped` takes the store's 0/1 column or a boolean.
 *
 * Example (defaults 30 000 / 10 000): listenSignal(31_000, false, r) = 1, listenSignal(5_000, 0, r) = −1,
 * listenSignal(20_000, 0, r) = 0, listenSignal(200_000, true, r) = −1.
 */
export function listenSignal(msPlayed: number, skipped: boolean | number, r: ListenRule): ListenSignal {
  if (skipped === true || skipped === 1 || msPlayed < r.quickSkipMs) return QUICK_SKIP;
  return msPlayed >= r.minStreamMs ? STREAM : NEITHER;
}

/**
 * The signals stage's front door: what a listen means and how listens become the confidence
 * matrix every model trains on.
 *
 * - {@link listenSignal}: one listen → stream (+1), quick skip (−1) or neither (0). The only place
 *   the thresholds are compared; the snapshot, serving's fold-in, the bandit's rewards and the
 *   evaluations all call it.
 * - {@link confidenceSettings}: the config's `signals.*` keys → the settings a run is built with
 *   (recorded in the run's signals artifact, and used again by serving for that run's fold-in).
 * - {@link signedConfidence}: a net play count (plays − skips) → its confidence (negative for net skips).
 * - {@link listenConfidence}, {@link artistConfidence}, {@link interactionConfidence},
 *   {@link confidenceFromCounts}: whole matrices (user × track, user × artist, aggregated counts).
 */
export { listenSignal, STREAM, QUICK_SKIP, NEITHER, type ListenSignal, type ListenRule } from './listen.ts';
export {
  confidence,
  confidenceSettings,
  defaultConfidence,
  signedConfidence,
  confidenceFromCounts,
  listenConfidence,
  artistConfidence,
  interactionConfidence,
  type ConfidenceOptions,
  type ConfidenceScale,
  type SkipMode,
} from './confidence.ts';
export { csrFromCoo, transpose, rowEntries, type Csr } from './csr.ts';
export * from './csr.ts';

/**
 * One small interface for every recommender (after implicit's RecommenderBase): fit on a user ×
 * item confidence matrix, recommend, find similar items and users, save. Optional abilities are
 * separate interfaces with type guards (`FoldIn`). Models work on dense rows only; ids are mapped
 * outside (see IdMap). Shared behaviour (argument checks, filtering heard items) lives in
 * `base.ts`, written once.
 */
import type { Csr } from '../signals/index.ts';
import type { Ranked } from '../core/topk.ts';

/** A ranked list (shared vocabulary, core/topk.ts). */
export type { Ranked };

export interface RecommendOptions {
  /** Leave out items the user has in `userItems` (default true). */
  filterHeard?: boolean;
  /** Leave out these item rows as well. */
  filterItems?: Iterable<number>;
  /** Score only these item rows (candidate re-ranking). */
  candidates?: Int32Array;
}

/** Progress of one training iteration, reported by `fit`. */
export interface FitProgress {
  iteration: number;
  iterations: number;
  seconds: number;
  /** Training loss when the model computes it (ALS: weighted squared error + regularization). */
  loss?: number;
}

export interface FitOptions {
  onIteration?: (p: FitProgress) => void;
}

export interface Recommender {
  /** Short name for tables: `popularity`, `itemknn-bm25`, `als-cg`. */
  readonly name: string;
  /** Train on `userItems` (users × items, confidence values). Throws on NaN or degenerate input. */
  fit(userItems: Csr, opts?: FitOptions): Promise<void>;
  /** Top-k item rows for user row `user`; `userItems` is the user's history used for filtering and scoring. */
  recommend(user: number, userItems: Csr, k: number, opts?: RecommendOptions): Ranked;
  /** Items most similar to item row `item` (itself excluded). */
  similarItems(item: number, k: number): Ranked;
  /** Users most similar to user row `user` (itself excluded). */
  similarUsers(user: number, k: number): Ranked;
  /** Write the model as a self-describing, versioned file. */
  save(path: string, meta: { runId: string }): Promise<void>;
}

/** Models that can recompute one user's state from their items without retraining (ALS). */
export interface FoldIn {
  /**
   * Recompute user `user`'s vector from `items`/`confidence` (item rows and their confidences),
   * growing the user table when `user` equals the current user count. Milliseconds, no retrain.
   */
  foldIn(user: number, items: Int32Array, confidence: Float32Array): void;
}

export function canFoldIn(r: Recommender): r is Recommender & FoldIn {
  return typeof (r as Partial<FoldIn>).foldIn === 'function';
}

/** Models with a factor space (ALS): item and user factor matrices, row-major, `factors` wide. */
export interface Factorized {
  readonly factors: number;
  itemFactors(): Float32Array;
  userFactors(): Float32Array;
}

export function isFactorized(r: Recommender): r is Recommender & Factorized {
  return typeof (r as Partial<Factorized>).itemFactors === 'function';
}

/** Models that rank many users at once faster than one by one (ALS: batched kernels on threads). */
export interface BatchRecommend {
  /**
   * Top-k for each of `users` (heard items of `userItems` left out unless filterHeard is false):
   * users.length × k item rows and scores, row-major, item −1 (score −∞) where fewer than k remain.
   */
  recommendBatch(users: Int32Array, userItems: Csr, k: number, opts?: { filterHeard?: boolean }): Promise<Ranked>;
}

export function canRecommendBatch(r: Recommender): r is Recommender & BatchRecommend {
  return typeof (r as Partial<BatchRecommend>).recommendBatch === 'function';
}

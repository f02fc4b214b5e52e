/**
 * Candidates from several sources, with the features a learned ranker reads (the second stage of a
 * two-stage recommender, as in Covington et al. 2016): every source proposes its top-`depth` items
 * per user, the union is kept, and each (user, item) gets one feature row:
 *
 *   per source s: rank_s (0 = best; `depth` when s did not propose the item), score_s / best score_s
 *   (0 when absent); sources proposing it; item popularity log(1 + users) and user activity
 *   log(1 + items), each divided by its maximum (so a ranker trained on a smaller validation matrix
 *   reads the same scale); item trend (share of the item's training pairs in the last `recentDays`
 *   before `now`); user recency log(1 + days since the user's last training pair).
 *
 * Time features are 0 when the training pairs carry no times.
 */
import type { Csr } from '../signals/index.ts';
import type { RecLists } from '../cf/index.ts';
import { DeepcutError } from '../errors.ts';

/** What the time features need: each training pair's time (unix seconds, aligned with `train.data`) and "now". */
export interface TrainTimes {
  time: Float64Array;
  now: number;
}

/** Per-item and per-user facts of a training matrix, shared by every candidate row. */
export interface RankStats {
  /** log(1 + users) per item. */
  popularity: Float64Array;
  /** Share of the item's pairs in the last `recentDays` (0 without times). */
  trend: Float64Array;
  /** log(1 + items) per user. */
  activity: Float64Array;
  /** log(1 + days since the user's last pair) (0 without times). */
  recency: Float64Array;
}

const DAY_S = 86_400;

/** {@link RankStats} of `train`; `recentDays` (default 30) is the trend window. */
export function rankStats(train: Csr, times?: TrainTimes, recentDays = 30): RankStats {
  const count = new Float64Array(train.cols);
  const recent = new Float64Array(train.cols);
  const activity = new Float64Array(train.rows);
  const recency = new Float64Array(train.rows);
  if (times && times.time.length !== train.indices.length) throw new DeepcutError('invalid_input', `rankStats: ${times.time.length} times for ${train.indices.length} training pairs`);
  for (let u = 0; u < train.rows; u++) {
    let last = -Infinity;
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) {
      const i = train.indices[p];
      count[i]++;
      if (times) {
        const t = times.time[p];
        if (times.now - t <= recentDays * DAY_S) recent[i]++;
        if (t > last) last = t;
      }
    }
    activity[u] = Math.log1p(train.indptr[u + 1] - train.indptr[u]);
    if (times && last > -Infinity) recency[u] = Math.log1p(Math.max(0, times.now - last) / DAY_S);
  }
  return { popularity: count.map(Math.log1p), trend: count.map((c, i) => (c > 0 ? recent[i] / c : 0)), activity, recency };
}

/** The candidate rows of a set of users: rows of user `users[j]` are offsets[j]..offsets[j+1]. */
export interface Candidates {
  users: Int32Array;
  offsets: Int32Array;
  items: Int32Array;
  /** rows × dim features, row-major. */
  x: Float64Array;
  dim: number;
}

/** Feature count for `sources` sources. */
export const featureCount = (sources: number): number => 2 * sources + 5;

/**
 * The union of the sources' lists per user with one feature row each (see the module comment).
 * Every source's lists must cover the same users in the same order.
 */
export function buildCandidates(sources: RecLists[], stats: RankStats, depth: number): Candidates {
  if (sources.length === 0) throw new DeepcutError('invalid_input', 'buildCandidates: no candidate sources');
  const users = sources[0].users;
  for (const s of sources) if (s.users.length !== users.length || s.users.some((u, j) => u !== users[j])) throw new DeepcutError('invalid_input', 'buildCandidates: sources cover different users');
  const S = sources.length;
  const dim = featureCount(S);
  const offsets = new Int32Array(users.length + 1);
  const maxOf = (x: Float64Array) => x.reduce((a, b) => Math.max(a, b), 0) || 1;
  const popMax = maxOf(stats.popularity);
  const actMax = maxOf(stats.activity);
  const items: number[] = [];
  const rows: number[] = [];
  for (let j = 0; j < users.length; j++) {
    const u = users[j];
    const at = new Map<number, number>();
    const feats: Float64Array[] = [];
    sources.forEach((src, s) => {
      const list = src.items[j];
      const sc = src.scores[j];
      const best = list.length > 0 && sc[0] > 0 ? sc[0] : 0;
      for (let r = 0; r < Math.min(depth, list.length); r++) {
        const i = list[r];
        let f = at.get(i);
        if (f === undefined) {
          f = feats.length;
          at.set(i, f);
          const row = new Float64Array(dim);
          for (let q = 0; q < S; q++) row[2 * q] = depth;
          feats.push(row);
          items.push(i);
        }
        const row = feats[f];
        row[2 * s] = r;
        row[2 * s + 1] = best > 0 ? sc[r] / best : 0;
        row[2 * S]++;
      }
    });
    for (let f = 0; f < feats.length; f++) {
      const row = feats[f];
      const i = items[items.length - feats.length + f];
      row[2 * S + 1] = stats.popularity[i] / popMax;
      row[2 * S + 2] = stats.trend[i];
      row[2 * S + 3] = stats.activity[u] / actMax;
      row[2 * S + 4] = stats.recency[u];
      for (let d = 0; d < dim; d++) rows.push(row[d]);
    }
    offsets[j + 1] = items.length;
  }
  return { users, offsets, items: Int32Array.from(items), x: Float64Array.from(rows), dim };
}

/** 1 for candidate rows whose (user, item) is in `test`, else 0. */
export function candidateLabels(c: Candidates, test: Csr): Float64Array {
  const y = new Float64Array(c.items.length);
  for (let j = 0; j < c.users.length; j++) {
    const u = c.users[j];
    const rel = new Set(test.indices.subarray(test.indptr[u], test.indptr[u + 1]));
    for (let r = c.offsets[j]; r < c.offsets[j + 1]; r++) if (rel.has(c.items[r])) y[r] = 1;
  }
  return y;
}

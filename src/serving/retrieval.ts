/**
 * The retrieval serving uses for a user's top-k (kept apart from load.ts so that it loads without
 * the pipeline's modules, e.g. in the API benchmark's worker thread).
 */
import { IvfIndex } from '../index/index.ts';
import { ranksByFactors, type Recommender } from '../cf/index.ts';
import type { Csr } from '../signals/index.ts';
import { log } from '../log.ts';

/**
 * Exact top-k retrieval for serving: the IVF index with ball bounds (nprobe 0, the same answers as
 * a full scan) when it is faster than the model's own SIMD scan on a sample of this run's users,
 * else undefined (the model's `recommend`). How much the bounds prune depends on the factors, so
 * the choice is measured at load, not assumed.
 */
export function itemRetrieval(model: Recommender, userItems: Csr, o: { sample?: number; now?: () => number } = {}): IvfIndex | undefined {
  if (!ranksByFactors(model)) return undefined; // another model ranks (the production model): its own recommend answers
  const f = model.factors;
  const X = model.userFactors();
  const userCount = X.length / f;
  if (userCount === 0) return undefined;
  const now = o.now ?? (() => performance.now());
  const index = new IvfIndex(f, 'ip');
  index.add(model.itemFactors());
  const n = Math.min(o.sample ?? 64, userCount);
  const users = Array.from({ length: n }, (_, i) => Math.floor((i * userCount) / n));
  const heard = (u: number) => (u < userItems.rows ? userItems.indices.subarray(userItems.indptr[u], userItems.indptr[u + 1]) : new Int32Array(0));
  const time = (fn: (u: number) => unknown) => {
    for (const u of users.slice(0, 8)) fn(u); // warm-up
    const t0 = now();
    for (const u of users) fn(u);
    return now() - t0;
  };
  const ivf = time((u) => index.search(X.subarray(u * f, (u + 1) * f), 20, { exclude: heard(u) }));
  const scan = time((u) => model.recommend(u, userItems, 20, { filterHeard: true }));
  log('serve').info({ ivf_ms_per_query: ivf / users.length, scan_ms_per_query: scan / users.length }, ivf < scan ? 'top-k through the IVF index' : 'top-k by the model\'s SIMD scan');
  return ivf < scan ? index : undefined;
}

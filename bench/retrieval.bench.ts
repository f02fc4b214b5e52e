/**
 * Retrieval by maximum inner product over ALS-like item factors (50,000 × 64): exact scans (plain
 * TS, norm-pruned TS, usearch's native exact search) against the usearch HNSW graph without and with
 * the MIPS→cosine augmentation, at a few graph settings. Queries run on ONE thread.
 *
 * Factors: real ALS factors when `--factors FILE` names an ALS model file (src/cf/als.ts save);
 * otherwise synthesized, seeded: 64 taste clusters, item norms spread 100× with a power-law tail
 * (most items small, a few popular ones large), queries drawn like user factors.
 */
import { exactSearch, MetricKind } from 'usearch';
import type { Bench } from './bench.ts';
import { peakRssMb } from './bench.ts';
import { Rng } from '../src/util/rng.ts';
import { ExactIndex } from '../src/index/exact.ts';
import { AnnIndex } from '../src/index/ann.ts';
import { recallAtK } from '../src/index/vector-index.ts';
import { topK } from '../src/cf/base.ts';
import type { Ranked } from '../src/cf/recommender.ts';
import { readArtifact } from '../src/cf/artifact.ts';

const D = 64;
const N = 50_000;
const K = 10;

function synth(n: number, seed: number, normSpread: boolean): Float32Array {
  const rng = new Rng(seed);
  const c = new Rng(7); // same centres for items and queries
  const centres = Array.from({ length: 64 }, () => Float32Array.from({ length: D }, () => c.normal()));
  const v = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const ctr = centres[rng.int(64)];
    const u = rng.next();
    const scale = normSpread ? Math.pow(100, u * u * u) / 10 : 0.3;
    for (let j = 0; j < D; j++) v[i * D + j] = (ctr[j] + 0.8 * rng.normal()) * scale;
  }
  return v;
}

function plainExact(items: Float32Array, queries: Float32Array): Ranked[] {
  const n = items.length / D;
  const out: Ranked[] = [];
  const s = new Float32Array(n);
  for (let j = 0; j < queries.length / D; j++) {
    const qo = j * D;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      const o = i * D;
      for (let d = 0; d < D; d++) acc += queries[qo + d] * items[o + d];
      s[i] = acc;
    }
    out.push(topK(s, K));
  }
  return out;
}

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, (performance.now() - t0) / 1000];
}

const bench: Bench = {
  name: 'retrieval',
  description: 'top-10 by inner product over 50,000 × 64 ALS-like item factors: exact scans vs usearch HNSW (plain ip and MIPS→cosine augmented), one query thread',
  async run(args) {
    const notes: string[] = [];
    let items: Float32Array;
    let queries: Float32Array;
    const fi = args.indexOf('--factors');
    if (fi >= 0) {
      const a = await readArtifact(args[fi + 1]);
      const names = Object.keys(a.arrays);
      const y = names.find((n) => /^(Y|items?|item_?factors)$/i.test(n));
      const x = names.find((n) => /^(X|users?|user_?factors)$/i.test(n));
      if (!y || !x) throw new Error(`--factors: no item/user factor arrays among ${names.join(', ')}`);
      items = a.arrays[y] as Float32Array;
      const users = a.arrays[x] as Float32Array;
      const rng = new Rng(1);
      const nq = 2000;
      queries = new Float32Array(nq * D);
      for (let j = 0; j < nq; j++) {
        const u = rng.int(users.length / D);
        queries.set(users.subarray(u * D, u * D + D), j * D);
      }
      notes.push(`factors from ${args[fi + 1]}`);
    } else {
      items = synth(N, 1, true);
      queries = synth(2000, 2, false);
      notes.push('factors synthesized (seeded): 64 clusters, item norms 0.1–10 with a power-law tail (100× spread); no real ALS factors of synthetic-cf-100k were given (--factors FILE)');
    }
    const nq = queries.length / D;
    const figures: Record<string, number | string> = { items: items.length / D, queries: nq };

    // ground truth and plain exact scan (on a subset to keep the bench short)
    const sub = queries.subarray(0, 300 * D);
    const [truthSub, tPlain] = timed(() => plainExact(items, sub));
    figures.exact_plain_ts_q_per_s = 300 / tPlain;

    const exact = new ExactIndex(D, 'ip');
    exact.add(items);
    exact.search(queries.subarray(0, D), K); // build the norm-sorted copy
    const [truth, tPruned] = timed(() => exact.searchBatch(queries, K));
    figures.exact_norm_pruned_q_per_s = nq / tPruned;
    figures.exact_norm_pruned_recall_at_10 = recallAtK(truth.slice(0, 300), truthSub, K);

    const [, tNative] = timed(() => exactSearch(items, queries, D, K, MetricKind.IP, 1));
    figures.exact_usearch_native_q_per_s = nq / tNative;

    // HNSW straight in ip space (no augmentation): usearch's ip metric
    {
      const { Index, ScalarKind } = await import('usearch');
      const g = new Index({ dimensions: D, metric: MetricKind.IP, quantization: ScalarKind.F32, connectivity: 32, expansion_add: 200, expansion_search: 512, multi: false });
      const keys = new BigUint64Array(N);
      for (let i = 0; i < N; i++) keys[i] = BigInt(i);
      g.add(keys, items, 2);
      const res = g.search(queries, K, 1) as unknown as { keys: BigUint64Array };
      const got: Ranked[] = [];
      for (let j = 0; j < nq; j++) got.push({ items: Int32Array.from(res.keys.subarray(j * K, j * K + K), Number), scores: new Float32Array(K) });
      figures.hnsw_ip_no_augmentation_ef512_recall_at_10 = recallAtK(got, truth, K);
    }

    // augmented HNSW at several settings: build once per connectivity, vary ef at search
    let best: { recall: number; qps: number; label: string } | undefined;
    for (const m of [16, 32]) {
      const [ann, tBuild] = timed(() => AnnIndex.build(items, D, 'ip', { connectivity: m, expansionAdd: 200, expansionSearch: 64, threads: 2 }, queries.subarray(0, 200 * D)));
      figures[`hnsw_aug_m${m}_build_s`] = tBuild;
      for (const ef of [64, 128, 256, 512]) {
        const idx = await reopen(ann, ef);
        const [got, t] = timed(() => idx.searchBatch(queries, K));
        const recall = recallAtK(got, truth, K);
        figures[`hnsw_aug_m${m}_ef${ef}_recall_at_10`] = recall;
        figures[`hnsw_aug_m${m}_ef${ef}_q_per_s`] = nq / t;
        if (recall >= 0.95 && (!best || nq / t > best.qps)) best = { recall, qps: nq / t, label: `m${m} ef${ef}` };
      }
    }
    figures.best_at_recall_095 = best ? `${best.label}: ${best.qps.toFixed(0)} q/s at recall ${best.recall.toFixed(3)}` : 'none reached 0.95';
    figures.peak_rss_mb = peakRssMb();
    return {
      figures,
      targets: { best_at_recall_095: 'recall@10 ≥ 0.95 at ≥ 5,000 q/s, one thread', exact_norm_pruned_recall_at_10: '= 1 (exact)' },
      notes,
    };
  },
};

/** The same graph with another search expansion (usearch fixes ef at construction): via save/load. */
async function reopen(ann: AnnIndex, ef: number): Promise<AnnIndex> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'deepcut-bench-'));
  try {
    await ann.save(join(dir, 'a.idx'), { runId: 'bench' });
    return await AnnIndex.load(join(dir, 'a.idx'), {}, { expansionSearch: ef, threads: 1 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export default bench;

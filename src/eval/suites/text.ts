/**
 * Text features on real data: HetRec Last.fm 2k tag documents (`user_taggedartists.dat` +
 * `tags.dat`, read through the importer's own handler), one pooled document per artist.
 *
 *   (a) cold start: 10% of the artists that have both listens and tags (seeded) are removed from
 *       CF training. ALS is fitted on the rest; a ridge map from the artists' LSA text vectors
 *       to their ALS item factors is fitted on the training artists; the held-out artists get
 *       mapped factors ŷ, and every user who listened to one of them ranks the held-out artists
 *       by u·ŷ. Recall@50 / NDCG@50 against popularity and random orders of the same artists.
 *   (b) agreement: for warm artists, the 10 nearest by text (LSA cosine) against the 10 nearest
 *       by CF (item-factor cosine), overlap@10 against a random and a popularity baseline.
 */
import { join } from 'node:path';
import type { EvalReport, EvalSuite } from '../suite.ts';
import type { Csr } from '../../signals/index.ts';
import { alsAvailable, makeRecommender } from '../../cf/index.ts';
import { isFactorized } from '../../cf/index.ts';
import { topK } from '../../cf/index.ts';
import { loadHetrec, mapValues, toMatrix } from '../interactions.ts';
import { splitByMask } from '../../cf/index.ts';
import { rankMetrics } from '../../cf/index.ts';
import { buildTextFeatures, applyRidge, cosineTopK, type TextDoc } from '../../text/index.ts';
import { normalizeRows } from '../../core/linalg.ts';
import { fitTextToFactors, gatherRows } from '../../text/index.ts';
import { hetrecTagsHandler, lastfmArtist } from '../../ingest/index.ts';
import type { Sink } from '../../ingest/index.ts';
import type { Store } from '../../store/index.ts';
import { readLines } from '../../util/lines.ts';
import { Rng } from '../../util/rng.ts';
import { DeepcutError } from '../../errors.ts';

const K = 50;
const NEIGHBOURS = 10;

/** The tag documents the `hetrec-lastfm` importer would store, one per tagged artist. */
async function hetrecTagDocuments(folder: string): Promise<TextDoc[]> {
  const docs: TextDoc[] = [];
  const sink: Sink = {
    row: (entity, v) => {
      if (entity === 'documents') docs.push({ subject_id: v.subject_id as string, body: v.body as string });
    },
    reject: () => {},
    locate: () => {},
    note: () => {},
  };
  const handler = hetrecTagsHandler({ folder });
  for await (const frames of readLines(join(folder, 'user_taggedartists.dat'))) for (const f of frames) if (f.text.trim()) handler.record(f.text, f.line, sink);
  await handler.finish!(sink, undefined as unknown as Store); // the tags handler writes no meta
  return docs;
}

/** Mean Recall@k / NDCG@k of per-user rankings of the candidate artists. */
class RankTally {
  recall = 0;
  ndcg = 0;
  users = 0;
  add(ranked: ArrayLike<number>, relevant: ReadonlySet<number>): void {
    const m = rankMetrics(ranked, relevant, K);
    this.recall += m.recall;
    this.ndcg += m.ndcg;
    this.users++;
  }
  get result() {
    return { recall: this.recall / Math.max(this.users, 1), ndcg: this.ndcg / Math.max(this.users, 1) };
  }
}

/** Users per column of `m`. */
function columnCounts(m: Csr): Float64Array {
  const c = new Float64Array(m.cols);
  for (const j of m.indices) c[j]++;
  return c;
}

export const textHetrec: EvalSuite = {
  name: 'text-hetrec',
  description: 'HetRec Last.fm tags: cold-start artists ranked by text → CF ridge map vs popularity and random (recall@50); text- vs CF-similar artists (overlap@10)',
  needs: ['hetrec2011-lastfm-2k'],
  async run(ctx): Promise<EvalReport> {
    if (!(await alsAvailable())) throw new DeepcutError('unavailable', 'text-hetrec needs ALS (src/cf/als.ts)');
    const folder = join(ctx.dataDir, 'hetrec2011-lastfm-2k');
    const t0 = performance.now();
    const seconds = (since: number) => (performance.now() - since) / 1000;
    const raw = await loadHetrec(join(folder, 'user_artists.dat'));
    const data = { ...toMatrix(raw), items: raw.items };
    const docs = await hetrecTagDocuments(folder);
    const loadS = seconds(t0);

    const tText = performance.now();
    const dims = ctx.quick ? 32 : 64;
    const text = buildTextFeatures(docs, { dims, seed: ctx.seed, minDf: 2 });
    const textS = seconds(tText);
    const lsa = text.lsa;

    // artists (item columns) with both listens and tags; 10% of them held out of CF training
    const m = data.m;
    const textRow = Int32Array.from({ length: m.cols }, (_, j) => text.tfidf.subjects.row(lastfmArtist(data.items.id(j))));
    const listeners = columnCounts(m);
    const both: number[] = [];
    for (let j = 0; j < m.cols; j++) if (textRow[j] >= 0 && listeners[j] > 0) both.push(j);
    const order = new Rng(ctx.seed).shuffle(both.slice());
    const cold = order.slice(0, Math.round(0.1 * order.length)).sort((a, b) => a - b);
    const isCold = new Uint8Array(m.cols);
    for (const j of cold) isCold[j] = 1;
    const split = splitByMask(m, Uint8Array.from(m.indices, (j) => isCold[j]));

    const tAls = performance.now();
    const als = await makeRecommender({ kind: 'als', factors: 32, regularization: 1, iterations: ctx.quick ? 8 : 15, threads: ctx.threads, seed: ctx.seed, computeLoss: false });
    // the confidence chosen on validation in cf-hetrec: c = 1 + log(1 + plays)
    await als.fit(mapValues(split.train, (w) => 1 + Math.log1p(w)));
    if (!isFactorized(als)) throw new Error('ALS is expected to expose its factors');
    const f = als.factors;
    const itemF = als.itemFactors();
    const userF = als.userFactors();
    await (als as Partial<{ close(): Promise<void> }>).close?.();
    const alsS = seconds(tAls);

    // ridge: LSA vector → item factors, on the training artists with tags
    const tRidge = performance.now();
    const warm = both.filter((j) => !isCold[j]);
    const x = gatherRows(lsa.embedding, lsa.dims, warm.map((j) => textRow[j]));
    const y = gatherRows(itemF, f, warm);
    const sel = fitTextToFactors(x, y, warm.length, lsa.dims, f, ctx.seed);
    const yHat = applyRidge(sel.map, gatherRows(lsa.embedding, lsa.dims, cold.map((j) => textRow[j])), cold.length);
    const ridgeS = seconds(tRidge);

    // (a) rank the held-out artists for each user who listened to at least one of them
    const coldIndex = new Int32Array(m.cols).fill(-1);
    cold.forEach((j, i) => (coldIndex[j] = i));
    const popListeners = Float32Array.from(cold, (j) => listeners[j]); // known only after the fact
    const tagCounts = new Map<string, number>();
    for (const d of docs) tagCounts.set(d.subject_id, d.body.split(', ').length);
    const popTags = Float32Array.from(cold, (j) => tagCounts.get(lastfmArtist(data.items.id(j))) ?? 0); // known at cold start
    const coldLsa = gatherRows(lsa.embedding, lsa.dims, cold.map((j) => textRow[j]));
    const tally = { text_cf: new RankTally(), text_profile: new RankTally(), popularity_tags: new RankTally(), popularity_listeners: new RankTally(), random: new RankTally() };
    const rng = new Rng(ctx.seed + 1);
    const scores = new Float32Array(cold.length);
    const profile = new Float32Array(lsa.dims);
    const ranked = (s: Float32Array) => topK(s, K).items;
    for (let u = 0; u < m.rows; u++) {
      const relevant = new Set<number>();
      for (let p = split.test.indptr[u]; p < split.test.indptr[u + 1]; p++) relevant.add(coldIndex[split.test.indices[p]]);
      if (relevant.size === 0) continue;
      for (let i = 0; i < cold.length; i++) {
        let d = 0;
        for (let b = 0; b < f; b++) d += userF[u * f + b] * yHat[i * f + b];
        scores[i] = d;
      }
      tally.text_cf.add(ranked(scores), relevant);
      // content-only reference: the user's profile is the play-weighted mean of their training artists' LSA vectors
      profile.fill(0);
      for (let p = split.train.indptr[u]; p < split.train.indptr[u + 1]; p++) {
        const r = textRow[split.train.indices[p]];
        if (r < 0) continue;
        const w = Math.log1p(split.train.data[p]);
        for (let b = 0; b < lsa.dims; b++) profile[b] += w * lsa.embedding[r * lsa.dims + b];
      }
      for (let i = 0; i < cold.length; i++) {
        let d = 0;
        for (let b = 0; b < lsa.dims; b++) d += profile[b] * coldLsa[i * lsa.dims + b];
        scores[i] = d;
      }
      tally.text_profile.add(ranked(scores), relevant);
      tally.popularity_tags.add(ranked(popTags), relevant);
      tally.popularity_listeners.add(ranked(popListeners), relevant);
      for (let i = 0; i < cold.length; i++) scores[i] = rng.next();
      tally.random.add(ranked(scores), relevant);
    }

    // (b) overlap@10 of text and CF neighbours among warm artists with ≥ 5 training listeners
    const tOverlap = performance.now();
    const trainListeners = columnCounts(split.train);
    const pool = warm.filter((j) => trainListeners[j] >= 5);
    const poolText = gatherRows(lsa.embedding, lsa.dims, pool.map((j) => textRow[j]));
    const poolCf = gatherRows(itemF, f, pool);
    normalizeRows(poolCf, f);
    const queries = new Rng(ctx.seed + 2).shuffle(pool.map((_, i) => i)).slice(0, ctx.quick ? 300 : 2000);
    const byPop = topK(Float32Array.from(pool, (j) => trainListeners[j]), NEIGHBOURS + 1).items;
    let overlap = 0;
    let popOverlap = 0;
    for (const q of queries) {
      const ex = new Set([q]);
      const nt = cosineTopK(poolText, lsa.dims, poolText.subarray(q * lsa.dims, (q + 1) * lsa.dims), NEIGHBOURS, ex).items;
      const nc = new Set(cosineTopK(poolCf, f, poolCf.subarray(q * f, (q + 1) * f), NEIGHBOURS, ex).items);
      for (const a of nt) if (nc.has(a)) overlap++;
      for (const a of Array.from(byPop).filter((a) => a !== q).slice(0, NEIGHBOURS)) if (nc.has(a)) popOverlap++;
    }
    const overlapAt10 = overlap / (queries.length * NEIGHBOURS);
    const popOverlapAt10 = popOverlap / (queries.length * NEIGHBOURS);
    // two independent uniform 10-sets out of n − 1 share 10/(n − 1) of their members on average
    const randomOverlap = NEIGHBOURS / (pool.length - 1);
    const overlapS = seconds(tOverlap);

    const a = Object.fromEntries(Object.entries(tally).map(([k, t]) => [k, t.result]));
    const metrics: Record<string, number | string> = {
      artists_with_tags: text.tfidf.subjects.size,
      vocabulary: text.tfidf.terms.length,
      lsa_dims: lsa.dims,
      heldout_artists: cold.length,
      heldout_users: tally.text_cf.users,
      ridge_lambda: sel.map.lambda,
      ridge_validation_r2: sel.validationR2,
      overlap_pool_artists: pool.length,
      overlap_queries: queries.length,
      text_cf_overlap_at_10: overlapAt10,
      random_overlap_at_10: randomOverlap,
      popularity_overlap_at_10: popOverlapAt10,
      load_s: loadS,
      text_features_s: textS,
      als_fit_s: alsS,
      ridge_s: ridgeS,
      overlap_s: overlapS,
      total_s: seconds(t0),
    };
    for (const [k, r] of Object.entries(a)) {
      metrics[`${k}_recall_at_${K}`] = r.recall;
      metrics[`${k}_ndcg_at_${K}`] = r.ndcg;
    }
    const label: Record<string, string> = {
      text_cf: 'text → CF map (u·ŷ)',
      text_profile: 'text profile (LSA cosine, no CF)',
      popularity_tags: 'popularity by tag count (known at cold start)',
      popularity_listeners: 'popularity by listeners (oracle: unknown at cold start)',
      random: 'random',
    };
    return {
      metrics,
      tables: [
        {
          title: `cold-start artists: ${cold.length} held out of CF training, ranked for the ${tally.text_cf.users} users who listened to them`,
          columns: ['ranking', `R@${K}`, `NDCG@${K}`],
          rows: Object.entries(a).map(([k, r]) => [label[k], r.recall, r.ndcg]),
        },
        {
          title: `text- vs CF-similar artists: ${queries.length} queries among ${pool.length} warm artists (≥ 5 training listeners)`,
          columns: ['neighbours compared with CF top 10', `overlap@${NEIGHBOURS}`],
          rows: [
            ['text (LSA cosine) top 10', overlapAt10],
            ['10 most popular artists', popOverlapAt10],
            ['random 10 (expected)', randomOverlap],
          ],
        },
      ],
      notes: [
        `split: seed ${ctx.seed}; held out 10% of the ${both.length} artists with both listens and tags; ALS 32 factors, λ 1, c = 1 + log(1 + plays), ${ctx.quick ? 8 : 15} iterations`,
        `text: ${docs.length} tag documents, vocabulary ${text.tfidf.terms.length} (min df 2), LSA ${lsa.dims} dims; ridge λ ${sel.map.lambda} chosen on a 20% validation split of ${warm.length} warm artists`,
      ],
    };
  },
};

/**
 * K-fold cross-fitting over a training matrix, for a random-split protocol (MovieLens 100k's): each
 * user's training pairs are dealt into K folds (seeded); for each fold, EASE^R and ALS are fitted
 * on the other K − 1 and rank that user's unseen items, and the fold's pairs are the labels. From
 * the same fits come
 *
 * - a **validation figure** for every candidate, NDCG@10 averaged over the K folds (every training
 *   pair is held out once, so the noise of one 25% holdout is averaged away): EASE^R, ALS, their
 *   blends (z-scores per user, ALS at each weight; src/cf/blend.ts's rule) and the learned ranker,
 *   whose figure on fold f comes from a ranker trained on the other folds' rows (it never sees fold
 *   f's labels); and
 * - the **training rows of the ranker** that goes to test: gradient-boosted trees (src/rank's
 *   LearnedRanker, the bandit stage's implementation) over the union of EASE^R's and ALS's top
 *   `depth`, with features from the collaborative scores and from what the data set ships beside
 *   the ratings (item genres and year, user age, gender and occupation) and the ratings' times.
 *
 * Nothing here reads the test side: the caller fits the same sources on the whole training matrix,
 * and the ranker trained on every fold's rows ranks their candidates. The ranker then reads lists
 * of models fitted on K/(K−1) times the data it was trained on (the shift that cost the nested
 * ranker, docs/recommendations.md); K = 5 keeps it at a fifth.
 */
import { readFileSync } from 'node:fs';
import type { Csr } from '../signals/index.ts';
import { EaseRecommender, isFactorized, makeRecommender, rankMetrics, type RecLists, splitByMask } from '../cf/index.ts';
import type { AlsOptions } from '../cf/index.ts';
import { type Candidates, LearnedRanker } from '../rank/index.ts';
import type { IdMap } from '../domain/ids.ts';
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';

const DAY_S = 86_400;

/** What MovieLens 100k ships beside the ratings, per item row and per user row. */
export interface SideInfo {
  /** items × `genreCount` 0/1 flags (u.item). */
  genres: Uint8Array;
  genreCount: number;
  /** Release year per item (u.item's date; 0 when missing). */
  year: Float64Array;
  /** Per user (u.user): age in years, 1 = male, occupation index. */
  age: Float64Array;
  male: Uint8Array;
  occupation: Int32Array;
  occupations: number;
}

/** Read u.item (Latin-1, `|`-separated; 19 genre flags last) and u.user, mapped to the matrix rows of `items` and `users`. */
export function loadMl100kSide(dir: string, items: IdMap, users: IdMap): SideInfo {
  const G = 19;
  const genres = new Uint8Array(items.size * G);
  const year = new Float64Array(items.size);
  for (const line of readFileSync(`${dir}/u.item`, 'latin1').split('\n')) {
    const c = line.split('|');
    const r = items.row(c[0]);
    if (r < 0 || c.length < 5 + G) continue;
    for (let g = 0; g < G; g++) genres[r * G + g] = c[5 + g].trim() === '1' ? 1 : 0;
    const y = Number(c[2].slice(-4));
    year[r] = Number.isFinite(y) ? y : 0;
  }
  const age = new Float64Array(users.size);
  const male = new Uint8Array(users.size);
  const occupation = new Int32Array(users.size);
  const occ = new Map<string, number>();
  for (const line of readFileSync(`${dir}/u.user`, 'latin1').split('\n')) {
    const c = line.split('|');
    const r = users.row(c[0]);
    if (r < 0 || c.length < 4) continue;
    age[r] = Number(c[1]) || 0;
    male[r] = c[2] === 'M' ? 1 : 0;
    if (!occ.has(c[3])) occ.set(c[3], occ.size);
    occupation[r] = occ.get(c[3]) ?? 0;
  }
  return { genres, genreCount: G, year, age, male, occupation, occupations: occ.size };
}

/** The two sources and how the folds are cut. */
export interface CrossFitSpec {
  folds: number;
  seed: number;
  /** EASE^R on presence. */
  easeLambda: number;
  /** ALS, reading every pair at confidence `alsConfidence` (every pair is a positive of value 1). */
  als: AlsOptions;
  alsConfidence: number;
  /** Blend weights of ALS (EASE^R at 1) whose fold figures are reported. */
  blendWeights: number[];
  /** Each source's top-`depth` form the candidates (default 50). */
  depth?: number;
  /** The learned ranker (left out when absent): boosting rounds, tree depth, rows kept per fit (whole users). */
  ranker?: { rounds: number; depth: number; maxRows: number };
}

/** Dense scores of the two sources for every user (users × items, row-major). */
interface SourceScores {
  ease: Float32Array;
  als: Float32Array;
}

async function fitSources(train: Csr, s: CrossFitSpec): Promise<SourceScores> {
  const U = train.rows;
  const I = train.cols;
  const bin: Csr = { ...train, data: new Float32Array(train.data.length).fill(1) };
  const e = new EaseRecommender({ lambda: s.easeLambda });
  await e.fit(bin);
  const ease = new Float32Array(U * I);
  for (let u = 0; u < U; u++) e.scores(u, bin, ease.subarray(u * I, (u + 1) * I));
  const a = await makeRecommender({ kind: 'als', ...s.als });
  await a.fit({ ...train, data: new Float32Array(train.data.length).fill(s.alsConfidence) });
  if (!isFactorized(a)) throw new DeepcutError('invalid_input', 'crossfit: ALS has no factors');
  const f = a.factors;
  const X = a.userFactors();
  const Y = a.itemFactors();
  const als = new Float32Array(U * I);
  for (let u = 0; u < U; u++) {
    for (let i = 0; i < I; i++) {
      let d = 0;
      for (let k = 0; k < f; k++) d += X[u * f + k] * Y[i * f + k];
      als[u * I + i] = d;
    }
  }
  await (a as Partial<{ close(): Promise<void> }>).close?.();
  return { ease, als };
}

/** z-scores of row `u` of a users × `I` score matrix (src/cf/blend.ts standardizes the same way). */
function zRow(s: Float32Array, u: number, I: number): Float64Array {
  const r = s.subarray(u * I, (u + 1) * I);
  let m = 0;
  for (let i = 0; i < I; i++) m += r[i];
  m /= I;
  let v = 0;
  for (let i = 0; i < I; i++) v += (r[i] - m) ** 2;
  const sd = Math.sqrt(v / I) || 1;
  return Float64Array.from(r, (x) => (x - m) / sd);
}

/** The best `k` items of `score` outside `seen`, best first. */
function topUnseen(score: Float64Array, seen: ReadonlySet<number>, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < score.length; i++) if (!seen.has(i)) idx.push(i);
  idx.sort((a, b) => score[b] - score[a] || a - b);
  return idx.slice(0, k);
}

const rowSet = (m: Csr, u: number) => new Set(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));

/** Facts of a training matrix the side features read. */
interface Facts {
  count: Float64Array;
  logCountMax: number;
  /** per item: first and mean rating time; per user: first, median and last time, genre shares. */
  first: Float64Array;
  meanTime: Float64Array;
  userFirst: Float64Array;
  userMedian: Float64Array;
  userLast: Float64Array;
  userGenre: Float64Array;
  /** per item: sum of raters' ages, male raters, raters per occupation (items × occupations). */
  ageSum: Float64Array;
  maleSum: Float64Array;
  occCount: Float64Array;
  /** per item: its training times, ascending; and all training times, ascending. */
  itemTimes: Float64Array[];
  allTimes: Float64Array;
}

function factsOf(train: Csr, time: Float64Array, side: SideInfo): Facts {
  const U = train.rows;
  const I = train.cols;
  const G = side.genreCount;
  const O = side.occupations;
  const f: Facts = {
    count: new Float64Array(I), logCountMax: 1, first: new Float64Array(I).fill(Infinity), meanTime: new Float64Array(I),
    userFirst: new Float64Array(U), userMedian: new Float64Array(U), userLast: new Float64Array(U), userGenre: new Float64Array(U * G),
    ageSum: new Float64Array(I), maleSum: new Float64Array(I), occCount: new Float64Array(I * O), itemTimes: [], allTimes: Float64Array.from(time).sort(),
  };
  const times: number[][] = Array.from({ length: I }, () => []);
  for (let u = 0; u < U; u++) {
    const ts: number[] = [];
    for (let p = train.indptr[u]; p < train.indptr[u + 1]; p++) {
      const i = train.indices[p];
      f.count[i]++;
      f.first[i] = Math.min(f.first[i], time[p]);
      f.meanTime[i] += time[p];
      f.ageSum[i] += side.age[u];
      f.maleSum[i] += side.male[u];
      f.occCount[i * O + side.occupation[u]]++;
      for (let g = 0; g < G; g++) f.userGenre[u * G + g] += side.genres[i * G + g];
      times[i].push(time[p]);
      ts.push(time[p]);
    }
    ts.sort((a, b) => a - b);
    if (ts.length) {
      f.userFirst[u] = ts[0];
      f.userMedian[u] = ts[ts.length >> 1];
      f.userLast[u] = ts[ts.length - 1];
      for (let g = 0; g < G; g++) f.userGenre[u * G + g] /= ts.length;
    }
  }
  for (let i = 0; i < I; i++) {
    if (f.count[i]) f.meanTime[i] /= f.count[i];
    f.itemTimes.push(Float64Array.from(times[i]).sort());
  }
  f.logCountMax = Math.log1p(f.count.reduce((a, b) => Math.max(a, b), 0)) || 1;
  return f;
}

/** Entries of sorted `a` in [lo, hi). */
function countIn(a: Float64Array, lo: number, hi: number): number {
  const lowerBound = (v: number) => {
    let l = 0;
    let h = a.length;
    while (l < h) {
      const m = (l + h) >> 1;
      if (a[m] < v) l = m + 1;
      else h = m;
    }
    return l;
  };
  return lowerBound(hi) - lowerBound(lo);
}

/** Feature names, in column order. */
export const CROSSFIT_FEATURES = [
  'ease rank', 'ease z', 'als rank', 'als z', 'best rank', 'ease z + als z',
  'item popularity', 'user activity',
  'genre affinity (mean over the item\'s genres)', 'genre affinity (max)',
  'release year', 'years from release to the user\'s median rating time',
  'days from the user\'s last rating to the item\'s first', 'days from the user\'s median rating to the item\'s mean',
  'item raters\' mean age − user age', 'share of item raters of the user\'s gender', 'share of item raters of the user\'s occupation',
  'item\'s share of ratings within 30 days of the user\'s median time (‰)', 'share of the item\'s ratings inside the user\'s active span',
  'user age', 'user gender', 'user active span (days)',
] as const;
const DIM = CROSSFIT_FEATURES.length;

/** Candidate rows (EASE^R's and ALS's top `depth` unseen, united) of `users`, with features and, given `labels`, 0/1 labels. */
function candidates(sc: SourceScores, train: Csr, time: Float64Array, side: SideInfo, users: Int32Array, depth: number): Candidates {
  const I = train.cols;
  const G = side.genreCount;
  const O = side.occupations;
  const f = factsOf(train, time, side);
  const offsets = new Int32Array(users.length + 1);
  const items: number[] = [];
  const x: number[] = [];
  const W = 30 * DAY_S;
  for (let j = 0; j < users.length; j++) {
    const u = users[j];
    const seen = rowSet(train, u);
    const ze = zRow(sc.ease, u, I);
    const za = zRow(sc.als, u, I);
    const te = topUnseen(ze, seen, depth);
    const ta = topUnseen(za, seen, depth);
    const re = new Map(te.map((i, r) => [i, r]));
    const ra = new Map(ta.map((i, r) => [i, r]));
    const n = train.indptr[u + 1] - train.indptr[u];
    const window = countIn(f.allTimes, f.userMedian[u] - W, f.userMedian[u] + W) || 1;
    const med = new Date(f.userMedian[u] * 1000);
    const medYear = med.getUTCFullYear() + med.getUTCMonth() / 12;
    for (const i of new Set([...te, ...ta])) {
      const c = f.count[i];
      let aff = 0;
      let genres = 0;
      let max = 0;
      for (let g = 0; g < G; g++) {
        if (!side.genres[i * G + g]) continue;
        aff += f.userGenre[u * G + g];
        genres++;
        max = Math.max(max, f.userGenre[u * G + g]);
      }
      const maleShare = c ? f.maleSum[i] / c : 0.5;
      x.push(
        re.get(i) ?? depth, ze[i], ra.get(i) ?? depth, za[i], Math.min(re.get(i) ?? depth, ra.get(i) ?? depth), ze[i] + za[i],
        Math.log1p(c) / f.logCountMax, Math.log1p(n),
        genres ? aff / genres : 0, max,
        side.year[i], medYear - side.year[i],
        Number.isFinite(f.first[i]) ? (f.first[i] - f.userLast[u]) / DAY_S : 0, c ? (f.meanTime[i] - f.userMedian[u]) / DAY_S : 0,
        c ? f.ageSum[i] / c - side.age[u] : 0, side.male[u] ? maleShare : 1 - maleShare, c ? f.occCount[i * O + side.occupation[u]] / c : 0,
        (countIn(f.itemTimes[i], f.userMedian[u] - W, f.userMedian[u] + W) / window) * 1000, c ? countIn(f.itemTimes[i], f.userFirst[u] - DAY_S, f.userLast[u] + DAY_S) / c : 0,
        side.age[u], side.male[u], (f.userLast[u] - f.userFirst[u]) / DAY_S,
      );
      items.push(i);
    }
    offsets[j + 1] = items.length;
  }
  return { users, offsets, items: Int32Array.from(items), x: Float64Array.from(x), dim: DIM };
}

function labelsOf(c: Candidates, test: Csr): Float64Array {
  const y = new Float64Array(c.items.length);
  for (let j = 0; j < c.users.length; j++) {
    const rel = rowSet(test, c.users[j]);
    for (let r = c.offsets[j]; r < c.offsets[j + 1]; r++) if (rel.has(c.items[r])) y[r] = 1;
  }
  return y;
}

/** Rows of several candidate sets as one (users repeat across folds; each fold's rows stay whole). */
function concat(cs: Candidates[]): Candidates {
  const users = Int32Array.from(cs.flatMap((c) => [...c.users]));
  const offsets = new Int32Array(users.length + 1);
  let j = 0;
  let base = 0;
  for (const c of cs) {
    for (let q = 0; q < c.users.length; q++) offsets[++j] = base + c.offsets[q + 1];
    base += c.items.length;
  }
  const items = new Int32Array(base);
  const x = new Float64Array(base * DIM);
  let at = 0;
  for (const c of cs) {
    items.set(c.items, at);
    x.set(c.x, at * DIM);
    at += c.items.length;
  }
  return { users, offsets, items, x, dim: DIM };
}

/** Lists of the ranked candidates (top `k` by the ranker's probability). */
function rankWith(ranker: LearnedRanker, c: Candidates, items: number, k: number): RecLists {
  return ranker.rank(c, { popularity: new Float64Array(items) }, k);
}

/** Lists of one score matrix (or a z-blend of the two) for `users`. */
function listsOf(sc: SourceScores, train: Csr, users: Int32Array, k: number, alsWeight: number | 'ease' | 'als'): RecLists {
  const I = train.cols;
  const items: Int32Array[] = [];
  const scores: Float32Array[] = [];
  for (const u of users) {
    let s: Float64Array;
    if (alsWeight === 'ease') s = zRow(sc.ease, u, I);
    else if (alsWeight === 'als') s = zRow(sc.als, u, I);
    else {
      const a = zRow(sc.ease, u, I);
      const b = zRow(sc.als, u, I);
      s = a.map((v, i) => v + alsWeight * b[i]);
    }
    const top = topUnseen(s, rowSet(train, u), k);
    items.push(Int32Array.from(top));
    scores.push(Float32Array.from(top, (i) => s[i]));
  }
  return { users, items, scores };
}

function meanNdcg(l: RecLists, test: Csr, k: number): number {
  let sum = 0;
  l.users.forEach((u, j) => (sum += rankMetrics(l.items[j], rowSet(test, u), k).ndcg));
  return sum / Math.max(1, l.users.length);
}

const usersWith = (m: Csr) => Int32Array.from({ length: m.rows }, (_, u) => u).filter((u) => m.indptr[u + 1] > m.indptr[u]);

/** One candidate's K-fold validation figure. */
export interface FoldFigure {
  key: string;
  label: string;
  /** NDCG@k averaged over the folds, and per fold. */
  ndcg: number;
  perFold: number[];
}

/**
 * Cross-fit on `train` (`time` aligned with `train.data`) and return every candidate's K-fold
 * validation figure, the lists of each candidate for `users` (sources fitted on the whole of
 * `train`), and the CPU-bound fit seconds. See the module comment.
 */
export async function crossFit(train: Csr, time: Float64Array, side: SideInfo, users: Int32Array, k: number, listDepth: number, s: CrossFitSpec): Promise<{ figures: FoldFigure[]; lists: Map<string, RecLists>; labels: Map<string, string>; fitS: number }> {
  if (time.length !== train.indices.length) throw new DeepcutError('invalid_input', `crossFit: ${time.length} times for ${train.indices.length} training pairs`);
  if (!(Number.isInteger(s.folds) && s.folds >= 2)) throw new DeepcutError('config', `crossFit: folds must be an integer ≥ 2, got ${s.folds}`);
  const t0 = performance.now();
  const depth = s.depth ?? 50;
  const rng = new Rng(s.seed);
  const fold = new Uint8Array(train.indices.length);
  for (let u = 0; u < train.rows; u++) {
    const pos = Array.from({ length: train.indptr[u + 1] - train.indptr[u] }, (_, q) => train.indptr[u] + q);
    rng.shuffle(pos);
    pos.forEach((p, q) => (fold[p] = q % s.folds));
  }
  const keys: [string, string, number | 'ease' | 'als'][] = [
    ['ease', `EASE^R λ ${s.easeLambda}`, 'ease'],
    ['als', `ALS ${s.als.factors ?? ''} factors, λ ${s.als.regularization ?? ''}, confidence ${+s.alsConfidence.toPrecision(3)}`, 'als'],
    ...s.blendWeights.map((w): [string, string, number] => [`blend_${w}`, `EASE^R + ${w}·ALS (z-scores)`, w]),
  ];
  const perFold = new Map<string, number[]>(keys.map(([key]) => [key, []]));
  const rows: { c: Candidates; y: Float64Array; test: Csr }[] = [];
  for (let q = 0; q < s.folds; q++) {
    const split = splitByMask(train, Uint8Array.from(fold, (v) => (v === q ? 1 : 0)));
    const t = time.filter((_, p) => fold[p] !== q);
    const sc = await fitSources(split.train, s);
    const fu = usersWith(split.test);
    for (const [key, , how] of keys) perFold.get(key)?.push(meanNdcg(listsOf(sc, split.train, fu, k, how), split.test, k));
    if (!s.ranker) continue;
    const c = candidates(sc, split.train, t, side, fu, depth);
    rows.push({ c, y: labelsOf(c, split.test), test: split.test });
  }
  const labels = new Map<string, string>(keys.map(([key, label]) => [key, label]));
  const o = s.ranker;
  const ranker = (from: typeof rows) => {
    const r = new LearnedRanker({ seed: s.seed, rounds: o?.rounds, depth: o?.depth, maxRows: o?.maxRows });
    r.fit(concat(from.map((x) => x.c)), Float64Array.from(from.flatMap((x) => [...x.y])));
    return r;
  };
  if (o) {
    perFold.set('ranked_side', rows.map((held, q) => meanNdcg(rankWith(ranker(rows.filter((_, p) => p !== q)), held.c, train.cols, k), held.test, k)));
    labels.set('ranked_side', `GBT (${o.rounds} rounds, depth ${o.depth}) over EASE^R's and ALS's top ${depth}, with genres, year, demographics and rating times; trained on the ${s.folds} folds' rows`);
  }
  const figures: FoldFigure[] = [...perFold].map(([key, v]) => ({ key, label: labels.get(key) ?? key, ndcg: v.reduce((a, b) => a + b, 0) / v.length, perFold: v }));
  // the lists that go to test: sources fitted on the whole training matrix, the ranker on every fold's rows
  const sc = await fitSources(train, s);
  const lists = new Map<string, RecLists>(keys.map(([key, , how]) => [key, listsOf(sc, train, users, listDepth, how)]));
  if (o) lists.set('ranked_side', rankWith(ranker(rows), candidates(sc, train, time, side, users, depth), train.cols, listDepth));
  return { figures, lists, labels, fitS: (performance.now() - t0) / 1000 };
}

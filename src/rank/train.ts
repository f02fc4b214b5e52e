/**
 * Training the production ranking stage on a time split of the run's own listens, with the label
 * Discover Weekly is judged by: the listens before `cut` (= the latest listen − `days`) are the
 * past world; a candidate is positive when the listener streamed it after the cut and had never
 * played it before. Listeners with a positive are split (seeded) into a fitting two thirds and a
 * checking third. On the checking third, each listener's plain list (the `cf` source alone) and
 * the ranked list, both cut to Discover Weekly's 30 tracks with its caps, are scored by hit rate
 * (a positive among the 30) and long-tail share; the ranker is used only when it beats the plain
 * list — otherwise the stage falls back and says why.
 */
import type { Csr } from '../signals/index.ts';
import { confidenceFromCounts, type ConfidenceOptions } from '../signals/index.ts';
import { Rng } from '../util/rng.ts';
import { DeepcutError } from '../errors.ts';
import { LearnedRanker } from './ranker.ts';
import type { Candidates } from './candidates.ts';
import { cappedTop, featureNames, rankedOrder, stackCandidates, userCandidates, userRowOf, WorldTables, type RankWorld, type StageSource, type TailDial, type UserCandidates } from './stage.ts';

/** Listen events in the run's rows: user row, track row, start (ms), and the signal (1 stream, −1 quick skip, 0 neither). */
export interface ListenEvents {
  user: Int32Array;
  track: Int32Array;
  at: Float64Array;
  signal: Int8Array;
}

/** The past of a time split (a world's matrix and times) and what came after it. */
export interface TimeSplit {
  matrix: Csr;
  lastAt: Float64Array;
  now: number;
  /** Per user row: tracks streamed after the cut and never played before it. */
  future: Map<number, Set<number>>;
}

/**
 * Split `e` at `cut` (ms): the matrix of the listens before it (confidences as the run makes
 * them, `o`), each pair's last time, and each listener's new streams after it. The listens
 * before the cut are grouped by (user, track) with two counting sorts (by track, then stably by
 * user), so a 5M-listen history costs a few typed-array passes, not a map entry per pair.
 */
export function timeSplit(e: ListenEvents, users: number, tracks: number, cut: number, o: ConfidenceOptions): TimeSplit {
  const n = e.user.length;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const u = e.user[i];
    const t = e.track[i];
    if (!(u >= 0 && u < users && t >= 0 && t < tracks)) throw new DeepcutError('invalid_input', `timeSplit: listen ${i} has user row ${u} of ${users}, track row ${t} of ${tracks}`);
    if (e.at[i] < cut) m++;
  }
  // the listens before the cut, ordered by (user, track), in event order within a pair
  const byTrack = new Int32Array(m);
  const start = new Int32Array(Math.max(users, tracks) + 1);
  for (let i = 0; i < n; i++) if (e.at[i] < cut) start[e.track[i] + 1]++;
  for (let t = 0; t < tracks; t++) start[t + 1] += start[t];
  for (let i = 0; i < n; i++) if (e.at[i] < cut) byTrack[start[e.track[i]]++] = i;
  const order = new Int32Array(m);
  const userStart = new Int32Array(users + 1);
  for (let j = 0; j < m; j++) userStart[e.user[byTrack[j]] + 1]++;
  for (let u = 0; u < users; u++) userStart[u + 1] += userStart[u];
  start.set(userStart.subarray(0, users));
  for (let j = 0; j < m; j++) {
    const i = byTrack[j];
    order[start[e.user[i]]++] = i;
  }
  // one entry per (user, track) pair: plays, skips, last time; pairStart[u] .. pairStart[u + 1] are user u's, by track
  const row = new Int32Array(m);
  const col = new Int32Array(m);
  const plays = new Float64Array(m);
  const skips = new Float64Array(m);
  const last = new Float64Array(m);
  const pairStart = new Int32Array(users + 1);
  let pairs = 0;
  let now = -Infinity;
  for (let u = 0; u < users; u++) {
    for (let j = userStart[u]; j < userStart[u + 1]; j++) {
      const i = order[j];
      const t = e.track[i];
      if (pairs === pairStart[u] || col[pairs - 1] !== t) {
        row[pairs] = u;
        col[pairs] = t;
        last[pairs] = -Infinity;
        pairs++;
      }
      const q = pairs - 1;
      if (e.signal[i] === 1) plays[q]++;
      if (e.signal[i] === -1) skips[q]++;
      last[q] = Math.max(last[q], e.at[i]);
      now = Math.max(now, e.at[i]);
    }
    pairStart[u + 1] = pairs;
  }
  /** The pair number of (u, t) before the cut, or −1. */
  const pairOf = (u: number, t: number): number => {
    let lo = pairStart[u];
    let hi = pairStart[u + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (col[mid] < t) lo = mid + 1;
      else if (col[mid] > t) hi = mid - 1;
      else return mid;
    }
    return -1;
  };
  const matrix = confidenceFromCounts(users, tracks, row.subarray(0, pairs), col.subarray(0, pairs), plays.subarray(0, pairs), skips.subarray(0, pairs), o);
  const lastAt = new Float64Array(matrix.indices.length);
  for (let u = 0; u < users; u++) for (let p = matrix.indptr[u]; p < matrix.indptr[u + 1]; p++) lastAt[p] = last[pairOf(u, matrix.indices[p])];
  const future = new Map<number, Set<number>>();
  for (let i = 0; i < n; i++) {
    if (e.at[i] < cut || e.signal[i] !== 1 || pairOf(e.user[i], e.track[i]) >= 0) continue;
    let f = future.get(e.user[i]);
    if (!f) future.set(e.user[i], (f = new Set()));
    f.add(e.track[i]);
  }
  return { matrix, lastAt, now: Number.isFinite(now) ? now : cut, future };
}

export interface StageTrainOptions {
  seed: number;
  /** Each source's proposals per listener (default 60). */
  depth?: number;
  /** Discover Weekly's list and caps (30, 2 per artist, 1 per album). */
  size?: number;
  perArtist?: number;
  perAlbum?: number;
  /** Tail dials tried (every β with every tail quota); the best hit rate whose long-tail share is ≥ `minTailShare` wins. */
  betas?: number[];
  tailShares?: number[];
  minTailShare?: number;
  /** At most this many listeners are used (a seeded sample; default 3000). */
  maxUsers?: number;
  /** Boosting rounds, tree depth and training rows of the ranker (80, 3, 60 000). */
  rounds?: number;
  treeDepth?: number;
  maxRows?: number;
}

/** Hit rate and long-tail share of one way of making the lists, on the checking listeners. */
export interface ListScore {
  hit_rate: number;
  long_tail_share: number;
}

/** What the validation found: the ranker, its penalty, and whether it is used. */
export interface StageReport {
  use: boolean;
  /** Why the stage falls back (when `use` is false). */
  fallback?: string;
  dial: TailDial;
  sources: string[];
  features: string[];
  cut: number;
  users: { fit: number; check: number };
  /** Candidate rows the ranker fitted on (its sample of the fitting listeners) plus the checking listeners' rows. */
  candidates: number;
  plain: ListScore;
  ranked: ListScore;
  /** Every dial tried on the checking listeners. */
  curve: (ListScore & TailDial)[];
}

/**
 * Fit the ranker on `past` with `sources` (built over `past`) and labels `split.future`, and
 * decide on the checking listeners (see the module comment). Throws `invalid_input` when no
 * listener has a positive.
 */
export function trainStage(past: WorldTables, sources: readonly StageSource[], future: Map<number, Set<number>>, o: StageTrainOptions): { ranker: LearnedRanker; report: Omit<StageReport, 'cut'> } {
  const depth = o.depth ?? 60;
  const size = o.size ?? 30;
  const names = sources.map((s) => s.name);
  const dim = featureNames(names).length;
  const w = past.w;
  const rng = new Rng(o.seed);
  const users = [...future.keys()].filter((u) => u < w.matrix.rows && w.matrix.indptr[u + 1] > w.matrix.indptr[u]).sort((a, b) => a - b);
  rng.shuffle(users);
  const chosen = users.slice(0, o.maxUsers ?? 3000);
  if (chosen.length < 3) throw new DeepcutError('invalid_input', `rank: ${chosen.length} listener(s) with a new stream after the validation cut; the stage needs at least 3`);
  const nFit = Math.max(1, Math.round((chosen.length * 2) / 3));
  const fitUsers = chosen.slice(0, nFit).sort((a, b) => a - b);
  const checkUsers = chosen.slice(nFit).sort((a, b) => a - b);
  const cfAt = names.indexOf('cf');
  // the plain list of a checking listener is the cf source's proposal made for their candidates, kept
  const plainOf = new Map<number, ArrayLike<number>>();
  const keepPlain = (list: readonly StageSource[]): StageSource[] =>
    list.map((src, s) => {
      if (s !== cfAt) return src;
      const top: StageSource['top'] = (u, row, heard, k) => {
        const r = src.top(u, row, heard, k);
        plainOf.set(u, r.items);
        return r;
      };
      return { name: src.name, top };
    });
  const cands = (us: number[], list: readonly StageSource[] = sources): UserCandidates[] =>
    us.map((u) => {
      const row = userRowOf(w, u);
      return userCandidates(past, list, u, row, new Set(row.items), depth);
    });
  const ranker = new LearnedRanker({ seed: o.seed, rounds: o.rounds ?? 80, depth: o.treeDepth ?? 3, maxRows: o.maxRows ?? 60_000 }, names);
  const labels = (us: readonly number[], c: Candidates): Float64Array => {
    const y = new Float64Array(c.items.length);
    us.forEach((u, j) => {
      const pos = future.get(u)!;
      for (let r = c.offsets[j]; r < c.offsets[j + 1]; r++) if (pos.has(c.items[r])) y[r] = 1;
    });
    return y;
  };
  // The ranker fits on a seeded sample of whole fitting listeners (at most maxRows rows): their
  // candidates are made in the sample's order until it is full, the others' never (the same
  // model as making every listener's and sampling after).
  const fitC: (UserCandidates | undefined)[] = new Array(fitUsers.length);
  const { order, rng: sampleRng } = ranker.sampleOrder(fitUsers.length);
  const keep: number[] = [];
  let rows = 0;
  let full = true;
  for (const j of order) {
    const c = (fitC[j] = cands([fitUsers[j]])[0]);
    if (rows + c.items.length > ranker.maxRows && keep.length > 0) {
      full = false;
      break;
    }
    keep.push(j);
    rows += c.items.length;
  }
  keep.sort((a, b) => a - b);
  const sampled = stackCandidates(keep.map((j) => fitUsers[j]), keep.map((j) => fitC[j]!), dim);
  const sampledY = labels(keep.map((j) => fitUsers[j]), sampled);
  let fitRows = sampled.items.length;
  if (!full && sampledY.some((v) => v > 0)) ranker.fitSample({ n: sampled.items.length, dim, x: sampled.x, y: sampledY }, sampleRng);
  else {
    // every listener's candidates (all fit in maxRows, or the sample has no positive): the plain fit
    fitUsers.forEach((u, j) => (fitC[j] ??= cands([u])[0]));
    const table = stackCandidates(fitUsers, fitC as UserCandidates[], dim);
    fitRows = table.items.length;
    ranker.fit(table, labels(fitUsers, table));
  }

  const checkC = cands(checkUsers, keepPlain(sources));
  const check = stackCandidates(checkUsers, checkC, dim);
  const p = ranker.predict(check);
  const cap = (order: ArrayLike<number>) => cappedTop(order, w, size, o.perArtist ?? 2, o.perAlbum ?? 1);
  const score = (lists: number[][]): ListScore => {
    let hits = 0;
    let tail = 0;
    let n = 0;
    lists.forEach((l, j) => {
      const pos = future.get(checkUsers[j])!;
      if (l.some((i) => pos.has(i))) hits++;
      for (const i of l) tail += past.isTail(i) ? 1 : 0;
      n += l.length;
    });
    return { hit_rate: lists.length ? hits / lists.length : 0, long_tail_share: n ? tail / n : 0 };
  };
  const plainLists = checkUsers.map((u) => (cfAt >= 0 ? cap(plainOf.get(u) ?? []) : []));
  const plain = score(plainLists);
  const dials = (o.betas ?? [0, 0.1, 0.2, 0.3]).flatMap((beta) => (o.tailShares ?? [0, 0.2, 0.3]).map((tailShare) => ({ beta, tailShare })));
  const curve = dials.map((dial) => {
    const lists = checkC.map((c, j) => cap(rankedOrder(past, c.items, p.subarray(check.offsets[j], check.offsets[j + 1]), dial).items));
    return { ...dial, ...score(lists) };
  });
  const minTail = o.minTailShare ?? 0;
  const ok = curve.filter((c) => c.long_tail_share >= minTail);
  // the best hit rate among the penalties that keep the tail's share; if none does, the most tail
  const best = ok.length ? ok.reduce((a, b) => (b.hit_rate > a.hit_rate ? b : a)) : curve.reduce((a, b) => (b.long_tail_share > a.long_tail_share ? b : a));
  const ranked = { hit_rate: best.hit_rate, long_tail_share: best.long_tail_share };
  const use = cfAt < 0 || ranked.hit_rate > plain.hit_rate;
  const fallback = use ? undefined : `the ranker's Discover Weekly hit rate on the validation week (${ranked.hit_rate.toFixed(4)}) does not beat the plain model's (${plain.hit_rate.toFixed(4)}): recommendations stay the plain model's`;
  return {
    ranker,
    report: { use, ...(fallback ? { fallback } : {}), dial: { beta: best.beta, tailShare: best.tailShare }, sources: names, features: featureNames(names), users: { fit: fitUsers.length, check: checkUsers.length }, candidates: fitRows + check.items.length, plain, ranked, curve },
  };
}

/** A world's stage-independent facts (re-exported for the step). */
export type { RankWorld };

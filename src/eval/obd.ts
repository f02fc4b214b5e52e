/**
 * The Open Bandit Dataset for offline evaluation: one logging policy's file of one campaign read
 * into typed arrays (rows sorted by time, as the Open Bandit Pipeline's `OpenBanditDataset` does),
 * the evaluation policy's action distribution file, the reward models' feature rows, and
 * cross-fitted reward predictions q̂(x_i, a, k_i) for every item a (DM and DR need the model's
 * value of every action the target might take).
 *
 * Rows are parsed by the import's own reader (`obdRecord`), so `deepcut import open-bandit` and
 * `deepcut eval --only bandit-obd` see the same values.
 */
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DeepcutError } from '../errors.ts';
import { readLines } from '../util/lines.ts';
import { Rng } from '../util/rng.ts';
import { obdColumns, obdRecord, type ObdColumns } from '../ingest/index.ts';
import { makeRewardModel, type PosteriorSampling, type RewardModel, type RewardModelConfig } from '../bandit/index.ts';

export interface ObdLog {
  policy: string;
  campaign: string;
  n: number;
  nItems: number;
  /** Positions per impression (3). */
  len: number;
  item: Int32Array;
  /** 0-based. */
  position: Int32Array;
  click: Float64Array;
  pscore: Float64Array;
  /** ms since the epoch. */
  time: Float64Array;
  /** Category index of each user feature (n × userVocab.length). */
  userCat: Int32Array;
  userVocab: number[];
  /** User–item affinity (n × nItems). */
  affinity: Float32Array;
  /** item_feature_0 per item. */
  itemNum: Float64Array;
  /** Label-encoded item_feature_1.. per item (nItems × itemVocab.length). */
  itemCat: Int32Array;
  itemVocab: number[];
}

const splitLine = (s: string) => s.split(',');

/** A file that may be gzipped: `<base>.gz` when it exists, else `<base>`. */
function pick(base: string): string {
  if (existsSync(`${base}.gz`)) return `${base}.gz`;
  if (existsSync(base)) return base;
  throw new DeepcutError('not_found', `missing ${base}(.gz)`, { file: base });
}

/** Read `<dir>/<policy>/<campaign>/<campaign>.csv[.gz]` and its `item_context.csv[.gz]`. */
export async function readObd(dir: string, policy: string, campaign: string): Promise<ObdLog> {
  const folder = join(dir, policy, campaign);
  const file = pick(join(folder, `${campaign}.csv`));
  let cols: ObdColumns | undefined;
  const recs: { t: number; item: number; pos: number; click: number; p: number; uf: string[]; aff: Map<number, number> }[] = [];
  for await (const frames of readLines(file)) {
    for (const f of frames) {
      if (f.issue) throw new DeepcutError('invalid_input', f.issue.reason, { file, line: f.line });
      if (f.text.trim() === '') continue;
      if (!cols) {
        const c = obdColumns(splitLine(f.text));
        if ('missing' in c) throw new DeepcutError('invalid_input', `the header has no ${c.missing} column`, { file, line: f.line });
        cols = c;
        continue;
      }
      const r = obdRecord(splitLine(f.text), cols, f.line);
      if ('reason' in r) throw new DeepcutError('invalid_input', r.reason, { file, line: f.line, field: r.field });
      recs.push({ t: Date.parse(r.timestamp), item: r.item, pos: r.position, click: r.click, p: r.propensity, uf: r.userFeatures, aff: r.affinity });
    }
  }
  if (!cols || recs.length === 0) throw new DeepcutError('invalid_input', 'no rows', { file });
  recs.sort((a, b) => a.t - b.t); // stable: ties keep the file's order
  // item context: `,item_id,item_feature_0,item_feature_1,…`
  const ctxFile = pick(join(folder, 'item_context.csv'));
  const raw = readFileSync(ctxFile);
  const lines = (ctxFile.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').split('\n').filter((l) => l.trim() !== '');
  const head = splitLine(lines[0]).map((h) => h.trim());
  const idCol = head.indexOf('item_id');
  const numCol = head.indexOf('item_feature_0');
  const catCols = head.map((h, i) => (/^item_feature_\d+$/.test(h) && i !== numCol ? i : -1)).filter((i) => i >= 0);
  const nItems = Math.max(...recs.map((r) => r.item), ...lines.slice(1).map((l) => Number(splitLine(l)[idCol]))) + 1;
  const itemNum = new Float64Array(nItems);
  const itemCat = new Int32Array(nItems * catCols.length).fill(-1);
  const itemMaps = catCols.map(() => new Map<string, number>());
  for (const l of lines.slice(1)) {
    const c = splitLine(l);
    const it = Number(c[idCol]);
    itemNum[it] = Number(c[numCol]) || 0;
    catCols.forEach((col, j) => {
      const m = itemMaps[j];
      if (!m.has(c[col])) m.set(c[col], m.size);
      itemCat[it * catCols.length + j] = m.get(c[col])!;
    });
  }
  const n = recs.length;
  const U = cols.userFeatures.length;
  const userMaps = Array.from({ length: U }, () => new Map<string, number>());
  const userCat = new Int32Array(n * U);
  const affinity = new Float32Array(n * nItems);
  const out: ObdLog = {
    policy,
    campaign,
    n,
    nItems,
    len: Math.max(...recs.map((r) => r.pos)) + 1,
    item: new Int32Array(n),
    position: new Int32Array(n),
    click: new Float64Array(n),
    pscore: new Float64Array(n),
    time: new Float64Array(n),
    userCat,
    userVocab: [],
    affinity,
    itemNum,
    itemCat,
    itemVocab: itemMaps.map((m) => m.size),
  };
  recs.forEach((r, i) => {
    out.item[i] = r.item;
    out.position[i] = r.pos;
    out.click[i] = r.click;
    out.pscore[i] = r.p;
    out.time[i] = r.t;
    r.uf.forEach((v, j) => {
      const m = userMaps[j];
      if (!m.has(v)) m.set(v, m.size);
      userCat[i * U + j] = m.get(v)!;
    });
    for (const [a, v] of r.aff) if (a < nItems) affinity[i * nItems + a] = v;
  });
  out.userVocab = userMaps.map((m) => m.size);
  return out;
}

/**
 * `bts-action-dist-<campaign>.csv` (`action,pos0,pos1,pos2`): the probability that Bernoulli TS, as
 * it ran, shows each item at each position; returned as nItems × len (row-major).
 */
export function readActionDist(file: string, nItems: number, len: number): Float64Array {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const head = splitLine(lines[0]).map((h) => h.trim());
  if (head[0] !== 'action' || head.length !== len + 1) throw new DeepcutError('invalid_input', `expected a header action,pos0..pos${len - 1}, got ${lines[0]}`, { file, line: 1 });
  const d = new Float64Array(nItems * len);
  for (let l = 1; l < lines.length; l++) {
    const c = splitLine(lines[l]).map(Number);
    if (!(c[0] >= 0 && c[0] < nItems) || c.slice(1).some((v) => !(v >= 0 && v <= 1))) throw new DeepcutError('invalid_input', `bad row ${lines[l]}`, { file, line: l + 1 });
    for (let k = 0; k < len; k++) d[c[0] * len + k] = c[k + 1];
  }
  for (let k = 0; k < len; k++) {
    let s = 0;
    for (let a = 0; a < nItems; a++) s += d[a * len + k];
    if (Math.abs(s - 1) > 1e-3) throw new DeepcutError('invalid_input', `position ${k} sums to ${s}, expected 1`, { file });
  }
  return d;
}

/**
 * Feature rows of (round i, item a, position k): the user features one-hot, log(1 + affinity of
 * the user to a), item_feature_0, the item's categorical features one-hot, the position one-hot.
 * (OBP's default context is the user features one-hot with the item features as action context,
 * and one model per position; deepcut pools the positions into one model with a position one-hot,
 * since a file holds ~50 clicks.)
 */
export function obdFeatures(log: ObdLog): { dim: number; row(out: Float64Array, at: number, i: number, a: number, k: number): void } {
  const uOff: number[] = [];
  let d = 0;
  for (const v of log.userVocab) {
    uOff.push(d);
    d += v;
  }
  const fAff = d++;
  const fNum = d++;
  const iOff: number[] = [];
  for (const v of log.itemVocab) {
    iOff.push(d);
    d += v;
  }
  const fPos = d;
  d += log.len;
  const U = log.userVocab.length, C = log.itemVocab.length;
  return {
    dim: d,
    row(out, at, i, a, k) {
      out.fill(0, at, at + d);
      for (let j = 0; j < U; j++) out[at + uOff[j] + log.userCat[i * U + j]] = 1;
      out[at + fAff] = Math.log1p(log.affinity[i * log.nItems + a]);
      out[at + fNum] = log.itemNum[a];
      for (let j = 0; j < C; j++) {
        const c = log.itemCat[a * C + j];
        if (c >= 0) out[at + iOff[j] + c] = 1;
      }
      out[at + fPos + k] = 1;
    },
  };
}

/** The logged rows `idx` as a training set (features of the shown item at its position, reward = click). */
export function obdDataset(log: ObdLog, idx: Int32Array, weights?: Float64Array): { n: number; dim: number; x: Float64Array; y: Float64Array; w?: Float64Array } {
  const f = obdFeatures(log);
  const x = new Float64Array(idx.length * f.dim);
  const y = new Float64Array(idx.length);
  idx.forEach((i, r) => {
    f.row(x, r * f.dim, i, log.item[i], log.position[i]);
    y[r] = log.click[i];
  });
  return { n: idx.length, dim: f.dim, x, y, ...(weights ? { w: weights } : {}) };
}

/**
 * q̂(x_i, a, k) for the rows `idx` and every item a at position `k(i)` (default the logged one):
 * |idx| × nItems, predicted by `model` (mean, or one posterior draw per row with `draw`).
 */
export function predictAll(log: ObdLog, model: RewardModel, idx: Int32Array, o: { position?: (i: number) => number } = {}): Float64Array {
  const f = obdFeatures(log);
  const A = log.nItems;
  const out = new Float64Array(idx.length * A);
  const chunk = 256;
  const x = new Float64Array(chunk * A * f.dim);
  const p = new Float64Array(chunk * A);
  for (let s = 0; s < idx.length; s += chunk) {
    const e = Math.min(idx.length, s + chunk);
    for (let r = s; r < e; r++) {
      const i = idx[r];
      const k = o.position ? o.position(i) : log.position[i];
      for (let a = 0; a < A; a++) f.row(x, ((r - s) * A + a) * f.dim, i, a, k);
    }
    model.predict(x, (e - s) * A, p);
    out.set(p.subarray(0, (e - s) * A), s * A);
  }
  return out;
}

/**
 * Cross-fitted reward predictions (Chernozhukov et al. 2018; OBP's `fit_predict(n_folds=…)`): the
 * rows are split into `folds` random folds (seeded); each fold's q̂(x_i, a, k_i) for every item a
 * comes from a model fitted on the other folds, so no row's own click is in its prediction.
 */
export function crossFitQ(log: ObdLog, config: RewardModelConfig, folds: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const order = Array.from({ length: log.n }, (_, i) => i);
  rng.shuffle(order);
  const fold = new Int32Array(log.n);
  order.forEach((i, r) => (fold[i] = r % folds));
  const q = new Float64Array(log.n * log.nItems);
  for (let f = 0; f < folds; f++) {
    const train = Int32Array.from(order.filter((i) => fold[i] !== f));
    const test = Int32Array.from(order.filter((i) => fold[i] === f));
    const m = makeRewardModel(config);
    m.fit(obdDataset(log, train), rng.fork());
    const p = predictAll(log, m, test);
    test.forEach((i, r) => q.set(p.subarray(r * log.nItems, (r + 1) * log.nItems), i * log.nItems));
  }
  return q;
}

/**
 * π(a, k_i | x_i) of a policy derived from a fitted reward model, for the rows `idx` and every item
 * a at each row's logged position k_i (|idx| × nItems): items are ranked by their score at the first
 * position and the top `len` fill the positions in order.
 * - `greedy`: the score is the model's mean prediction, π is 0 or 1;
 * - `thompson`: the score is one posterior draw (`model.sample`), π is the share of `draws` draws
 *   (Monte Carlo, seeded) that put a at k_i.
 */
export function policyMarginals(log: ObdLog, model: RewardModel & { sample?: PosteriorSampling['sample'] }, idx: Int32Array, kind: 'greedy' | 'thompson', o: { draws?: number; seed?: number } = {}): Float64Array {
  const f = obdFeatures(log);
  const A = log.nItems;
  const out = new Float64Array(idx.length * A);
  const x = new Float64Array(A * f.dim);
  const s = new Float64Array(A);
  const order = Int32Array.from({ length: A }, (_, a) => a);
  const rng = new Rng(o.seed ?? 1);
  const draws = kind === 'greedy' ? 1 : (o.draws ?? 32);
  if (kind === 'thompson' && !model.sample) throw new Error(`policyMarginals: ${model.name} has no posterior to sample`);
  idx.forEach((i, r) => {
    for (let a = 0; a < A; a++) f.row(x, a * f.dim, i, a, 0);
    const k = log.position[i];
    for (let d = 0; d < draws; d++) {
      if (kind === 'greedy') model.predict(x, A, s);
      else model.sample!(x, A, s, rng);
      // the item at rank k (ties to the lower item): partial selection of the top k + 1
      order.sort((p, q) => s[q] - s[p] || p - q);
      out[r * A + order[k]] += 1 / draws;
    }
  });
  return out;
}

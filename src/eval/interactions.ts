/**
 * Interaction data sets for offline evaluation: `user,item,weight[,timestamp]` CSVs (gzip when the
 * name ends in .gz), HetRec 2011 `user_artists.dat`, MovieLens `ratings.csv` (ratings ≥ a threshold
 * are positives). External ids map to dense rows through {@link IdMap}s; `toMatrix` aggregates
 * repeated (user, item) pairs so splits work on distinct pairs and cannot leak a pair into both sides.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { IdMap } from '../domain/ids.ts';
import { DeepcutError } from '../errors.ts';
import { csrFromCoo, type Csr } from '../signals/index.ts';

export interface Interactions {
  users: IdMap;
  items: IdMap;
  /** Per interaction: user row, item row, weight (plays, or 1), time (unix seconds; NaN when unknown). */
  user: Int32Array;
  item: Int32Array;
  weight: Float32Array;
  time: Float64Array;
}

class Builder {
  users = new IdMap();
  items = new IdMap();
  u: number[] = [];
  i: number[] = [];
  w: number[] = [];
  t: number[] = [];
  push(user: string, item: string, weight: number, time: number): void {
    this.u.push(this.users.add(user));
    this.i.push(this.items.add(item));
    this.w.push(weight);
    this.t.push(time);
  }
  done(): Interactions {
    return { users: this.users, items: this.items, user: Int32Array.from(this.u), item: Int32Array.from(this.i), weight: Float32Array.from(this.w), time: Float64Array.from(this.t) };
  }
}

async function* lines(file: string): AsyncGenerator<[string, number]> {
  const input = createReadStream(file);
  const rl = createInterface({ input: file.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      if (line) yield [line, n];
    }
  } catch (e) {
    throw new DeepcutError('not_found', `cannot read interactions: ${(e as Error).message}`, { file }, { cause: e });
  }
}

function num(s: string | undefined, file: string, line: number, field: string): number {
  const v = Number(s);
  if (s === undefined || s.trim() === '' || !Number.isFinite(v)) throw new DeepcutError('invalid_input', `expected a number, got ${JSON.stringify(s)}`, { file, line, field });
  return v;
}

/**
 * Read a `user,item,weight[,timestamp]` CSV (header optional: a first line whose weight is not a
 * number is skipped). Weights must be finite and > 0.
 */
export async function loadInteractionsCsv(file: string): Promise<Interactions> {
  const b = new Builder();
  for await (const [line, n] of lines(file)) {
    const c = line.split(',');
    if (n === 1 && c.length >= 3 && !Number.isFinite(Number(c[2]))) continue;
    if (c.length < 3) throw new DeepcutError('invalid_input', `expected user,item,weight[,timestamp], got ${c.length} field(s)`, { file, line: n });
    const w = num(c[2], file, n, 'weight');
    if (w <= 0) throw new DeepcutError('invalid_input', `weight must be > 0, got ${w}`, { file, line: n, field: 'weight' });
    b.push(c[0], c[1], w, c.length > 3 ? num(c[3], file, n, 'timestamp') : NaN);
  }
  return b.done();
}

/** Read HetRec 2011 Last.fm `user_artists.dat` (tab-separated `userID artistID weight`, one header). */
export async function loadHetrec(file: string): Promise<Interactions> {
  const b = new Builder();
  for await (const [line, n] of lines(file)) {
    if (n === 1) continue;
    const c = line.split('\t');
    b.push(c[0], c[1], num(c[2], file, n, 'weight'), NaN);
  }
  return b.done();
}

/** Read MovieLens `ratings.csv` keeping ratings ≥ `minRating` as positives of weight 1, with their timestamps. */
export async function loadMovielens(file: string, minRating = 4): Promise<Interactions> {
  const b = new Builder();
  for await (const [line, n] of lines(file)) {
    if (n === 1) continue;
    const c = line.split(',');
    if (num(c[2], file, n, 'rating') >= minRating) b.push(c[0], c[1], 1, num(c[3], file, n, 'timestamp'));
  }
  return b.done();
}

/** Read MovieLens 100k `u.data` (tab-separated `user item rating timestamp`, no header): every rating a positive of weight 1. */
export async function loadMovielens100k(file: string): Promise<Interactions> {
  const b = new Builder();
  for await (const [line, n] of lines(file)) {
    const c = line.split('\t');
    num(c[2], file, n, 'rating');
    b.push(c[0], c[1], 1, num(c[3], file, n, 'timestamp'));
  }
  return b.done();
}

export interface InteractionMatrix {
  /** users × items, weights of repeated pairs summed. */
  m: Csr;
  /** Earliest time of each stored pair, aligned with `m.data` (NaN when unknown). */
  time: Float64Array;
}

/** Aggregate interactions into distinct (user, item) pairs. */
export function toMatrix(x: Interactions): InteractionMatrix {
  const m = csrFromCoo(x.users.size, x.items.size, x.user, x.item, x.weight);
  const time = new Float64Array(m.indices.length).fill(NaN);
  for (let e = 0; e < x.user.length; e++) {
    const p = findEntry(m, x.user[e], x.item[e]);
    const t = x.time[e];
    if (!(time[p] <= t)) time[p] = t;
  }
  return { m, time };
}

/** Position of (row, col) in `m` (binary search in the sorted row); -1 when absent. */
export function findEntry(m: Csr, row: number, col: number): number {
  let lo = m.indptr[row];
  let hi = m.indptr[row + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = m.indices[mid];
    if (c === col) return mid;
    if (c < col) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** `m` with every value replaced by `f(value)` (same structure). */
export function mapValues(m: Csr, f: (v: number) => number): Csr {
  return { ...m, data: m.data.map(f) };
}

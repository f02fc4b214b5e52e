// Inverted-file (IVF) search kernels as WebAssembly SIMD (f32x4), compiled by scripts/build.mjs to
// build/wasm/ivf.wasm. Arguments are byte offsets into one imported memory (see
// src/cf/kernels/wasm.ts: Arena). Vectors are `f` floats wide, f a multiple of 4 (the caller pads
// with zeros). "Tiles" are 8 vectors interleaved: vector i, component d lives at
// tiles[(i >> 3)·8f + 8d + (i & 7)] (the layout of src/cf/kernels/als.as.ts packItems).
// The plain-TypeScript twin of `search` and `assign` is in src/index/ivf.ts (tested against them).

import { scoreTiles } from '../../cf/kernels/assembly/tiles';

/**
 * Nearest centroid by inner product for points [start, end) of P (n × f, row-major): out[i] = the
 * j < nC maximizing P_i · C_j (ties to the lower j), C packed in ceil(nC/8) tiles. The assignment
 * step of spherical k-means. Scratch: 8·ceil(nC/8) floats.
 */
export function assign(start: i32, end: i32, P: usize, f: i32, C: usize, nC: i32, out: usize, scratch: usize): void {
  const ntiles = (nC + 7) >> 3;
  for (let i = start; i < end; i++) {
    scoreTiles(P + (<usize>i * <usize>f << 2), C, ntiles, f, scratch);
    let best = 0;
    let bs = load<f32>(scratch);
    for (let j = 1; j < nC; j++) {
      const s = load<f32>(scratch + (<usize>j << 2));
      if (s > bs) { bs = s; best = j; }
    }
    store<i32>(out + (<usize>i << 2), best);
  }
}

/** Max-heap of list ids keyed by bound: sift the id at slot j down through a heap of `size`. */
@inline function siftDown(heap: usize, bounds: usize, j: i32, size: i32): void {
  const id = load<i32>(heap + (<usize>j << 2));
  const key = load<f32>(bounds + (<usize>id << 2));
  while (true) {
    let c = 2 * j + 1;
    if (c >= size) break;
    let cid = load<i32>(heap + (<usize>c << 2));
    let ckey = load<f32>(bounds + (<usize>cid << 2));
    if (c + 1 < size) {
      const rid = load<i32>(heap + (<usize>(c + 1) << 2));
      const rkey = load<f32>(bounds + (<usize>rid << 2));
      if (rkey > ckey) { c++; cid = rid; ckey = rkey; }
    }
    if (!(ckey > key)) break;
    store<i32>(heap + (<usize>j << 2), cid);
    j = c;
  }
  store<i32>(heap + (<usize>j << 2), id);
}

/**
 * Top-k search of one query `q` (f floats) over an IVF index. Every list L has a centre c_L
 * (`cent`, nlist centres in tiles) and a radius r_L = max ‖x − c_L‖ over its vectors (`radius`),
 * so q·x ≤ q·c_L + ‖q‖·r_L for every x in L (Cauchy–Schwarz). Lists are visited by decreasing
 * bound; the search stops when the next bound cannot beat the k-th score found (then the answer
 * is exact) or after `nprobe` lists once k rows are found (nprobe ≤ 0: no cap). List L's vectors are tiles from tile
 * `listTile[L]`, `listSize[L]` of them; `rows` gives each packed slot's row id.
 * Writes k rows and scores, best first (ties to the lower row; −1 / −inf where fewer were seen).
 * Rows whose byte in `mask` (one u8 per row; mask = 0 for none) is non-zero are skipped — the
 * bound stays valid, so an uncapped search is still exact over the other rows.
 * Returns the number of lists scored, negated when the cap ended the search before the bound did;
 * the number of vectors scored is stored as an i32 at `scored`.
 * Scratch: 8·ceil(nlist/8) + nlist + 8·ceil(maxList/8) words.
 */
export function search(q: usize, f: i32, k: i32, nprobe: i32, cent: usize, radius: usize, nlist: i32, listTile: usize, listSize: usize, tiles: usize, rows: usize, mask: usize, outItems: usize, outScores: usize, scratch: usize, scored: usize): i32 {
  const bounds = scratch;
  const heap = bounds + (<usize>((nlist + 7) >> 3) << 5);
  const scores = heap + (<usize>nlist << 2);
  // ‖q‖
  let acc = f32x4.splat(0);
  const qbytes = <usize>f << 2;
  for (let d: usize = 0; d < qbytes; d += 16) {
    const v = v128.load(q + d);
    acc = f32x4.add(acc, f32x4.mul(v, v));
  }
  const qn = Mathf.sqrt(f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  scoreTiles(q, cent, (nlist + 7) >> 3, f, bounds);
  for (let j = 0; j < nlist; j++) {
    const b = bounds + (<usize>j << 2);
    store<f32>(b, load<f32>(b) + qn * load<f32>(radius + (<usize>j << 2)));
    store<i32>(heap + (<usize>j << 2), j);
  }
  for (let j = (nlist >> 1) - 1; j >= 0; j--) siftDown(heap, bounds, j, nlist);
  for (let j = 0; j < k; j++) {
    store<i32>(outItems + (<usize>j << 2), -1);
    store<f32>(outScores + (<usize>j << 2), -Infinity);
  }
  const lastS = outScores + (<usize>(k - 1) << 2);
  const lastI = outItems + (<usize>(k - 1) << 2);
  let size = nlist;
  let probed = 0;
  let seen = 0;
  while (size > 0) {
    const L = load<i32>(heap);
    if (load<f32>(bounds + (<usize>L << 2)) < load<f32>(lastS)) break;
    if (nprobe > 0 && probed >= nprobe && load<i32>(lastI) >= 0) {
      store<i32>(scored, seen);
      return -probed;
    }
    probed++;
    size--;
    store<i32>(heap, load<i32>(heap + (<usize>size << 2)));
    siftDown(heap, bounds, 0, size);
    const n = load<i32>(listSize + (<usize>L << 2));
    seen += n;
    const t0 = load<i32>(listTile + (<usize>L << 2));
    scoreTiles(q, tiles + <usize>t0 * (qbytes << 3), (n + 7) >> 3, f, scores);
    const slot0 = rows + (<usize>t0 << 5);
    for (let i = 0; i < n; i++) {
      const s = load<f32>(scores + (<usize>i << 2));
      const thr = load<f32>(lastS);
      if (s < thr) continue;
      const row = load<i32>(slot0 + (<usize>i << 2));
      if (s == thr && load<i32>(lastI) >= 0 && row > load<i32>(lastI)) continue;
      if (mask && load<u8>(mask + <usize>row)) continue;
      // insert into the sorted list, dropping the last
      let j = k - 1;
      while (j > 0) {
        const ps = load<f32>(outScores + (<usize>(j - 1) << 2));
        const pi = load<i32>(outItems + (<usize>(j - 1) << 2));
        if (ps > s || (ps == s && pi < row && pi >= 0)) break;
        store<f32>(outScores + (<usize>j << 2), ps);
        store<i32>(outItems + (<usize>j << 2), pi);
        j--;
      }
      store<f32>(outScores + (<usize>j << 2), s);
      store<i32>(outItems + (<usize>j << 2), row);
    }
  }
  store<i32>(scored, seen);
  return probed;
}

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

/** a · b over `bytes` bytes (a multiple of 16) of floats. */
@inline function dot(a: usize, b: usize, bytes: usize): f32 {
  let e = f32x4.splat(0);
  for (let d: usize = 0; d < bytes; d += 16) e = f32x4.add(e, f32x4.mul(v128.load(a + d), v128.load(b + d)));
  return f32x4.extract_lane(e, 0) + f32x4.extract_lane(e, 1) + f32x4.extract_lane(e, 2) + f32x4.extract_lane(e, 3);
}

/** Insert (s, row) into the k best (scores best first, ties to the lower row; −1 = empty), dropping the last. */
@inline function insertTop(outItems: usize, outScores: usize, k: i32, s: f32, row: i32): void {
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
  const qbytes = <usize>f << 2;
  const qn = Mathf.sqrt(dot(q, q, qbytes));
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
      insertTop(outItems, outScores, k, s, row);
    }
  }
  store<i32>(scored, seen);
  return probed;
}

/** Min-heap of (score, id) pairs (`hs` scores, `hi` ids): sift slot j down through a heap of `size`. */
@inline function minDown(hs: usize, hi: usize, j: i32, size: i32): void {
  const s = load<f32>(hs + (<usize>j << 2));
  const id = load<i32>(hi + (<usize>j << 2));
  while (true) {
    let c = 2 * j + 1;
    if (c >= size) break;
    let cv = load<f32>(hs + (<usize>c << 2));
    if (c + 1 < size) {
      const rv = load<f32>(hs + (<usize>(c + 1) << 2));
      if (rv < cv) { c++; cv = rv; }
    }
    if (!(cv < s)) break;
    store<f32>(hs + (<usize>j << 2), cv);
    store<i32>(hi + (<usize>j << 2), load<i32>(hi + (<usize>c << 2)));
    j = c;
  }
  store<f32>(hs + (<usize>j << 2), s);
  store<i32>(hi + (<usize>j << 2), id);
}

/** Push (s, id) into the min-heap of `size` entries (room for one more): sift up. */
@inline function minUp(hs: usize, hi: usize, size: i32, s: f32, id: i32): void {
  let j = size;
  while (j > 0) {
    const par = (j - 1) >> 1;
    const pv = load<f32>(hs + (<usize>par << 2));
    if (!(s < pv)) break;
    store<f32>(hs + (<usize>j << 2), pv);
    store<i32>(hi + (<usize>j << 2), load<i32>(hi + (<usize>par << 2)));
    j = par;
  }
  store<f32>(hs + (<usize>j << 2), s);
  store<i32>(hi + (<usize>j << 2), id);
}

/**
 * The int16 weights of `q` against codes with per-dimension `scale`: w = round((q ∘ scale) / t),
 * stored as i16 pairs at `qw` (f/2 words); returns t (0 when q ∘ scale is 0).
 */
@inline function weights(q: usize, scale: usize, f: i32, qw: usize): f32 {
  const qbytes = <usize>f << 2;
  let mv = f32x4.splat(0);
  for (let d: usize = 0; d < qbytes; d += 16) mv = f32x4.max(mv, f32x4.abs(f32x4.mul(v128.load(q + d), v128.load(scale + d))));
  const m = Mathf.max(Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  const inv = f32x4.splat(m > 0 ? 32767 / m : 0);
  // 8 components at a time: rounded, to i32, narrowed to i16 (little-endian pairs d, d+1 per word)
  for (let d: usize = 0; d < qbytes; d += 32) {
    const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(f32x4.mul(v128.load(q + d), v128.load(scale + d)), inv)));
    const b = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(f32x4.mul(v128.load(q + d, 16), v128.load(scale + d, 16)), inv)));
    v128.store(qw + (d >> 1), i16x8.narrow_i32x4_s(a, b));
  }
  return m / 32767;
}

/** i32 dot products of the int16 weights `qw` with one 8-vector tile of int8 codes: vectors 0–3 in `lo`, 4–7 in `hi`. */
let lo = i32x4.splat(0);
let hi = i32x4.splat(0);
@inline function tileDots(qw: usize, tile: usize, pairs: i32): void {
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0);
  let p = tile;
  for (let j = 0; j < pairs; j++) {
    const w = v128.load32_splat(qw + (<usize>j << 2));
    const c = v128.load(p);
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(c), w));
    a1 = i32x4.add(a1, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(c), w));
    p += 16;
  }
  lo = a0;
  hi = a1;
}

/**
 * Capped top-k search over int8 codes with an exact re-rank (the IVF-SQ8 + reorder scheme of
 * FAISS / ScaNN). Codes are 8-vector tiles of int8 pairs: vector i, components d and d+1 at bytes
 * (i >> 3)·8f + (d >> 1)·16 + (i & 7)·2 + (d & 1).
 * - Lists: the centres as codes (`centCodes`, per-dimension scale `centScale`) give approximate
 *   scores q·c_L + w·‖q‖·r_L (`radius`, 8·ceil(nlist/8) floats, zero padded; w = `radiusWeight`,
 *   1 for the ball bound, less to favour lists whose centre is close to the query); the `nprobe`
 *   lists with the highest are visited in decreasing order, until the next one's ball bound is
 *   below the k-th approximate score (then more lists, in list order, only while fewer than k candidates exist).
 * - Rows: each vector x of list L is stored as its residual from the centre quantized per list and
 *   dimension: x ≈ c_L + s_L ∘ code, so with int16 weights w = round((q ∘ s_L) / t),
 *   q·x ≈ q·c_L + t·(w · code). List L's block (at byte `listBlock[L]` of `blocks`, read in one
 *   sweep) holds c_L (f floats), s_L (f floats), then its code tiles.
 * - The best `rerank` approximate candidates (masked rows skipped) are scored exactly from `vecs`
 *   (every vector in slot order, f floats) and the best k written as `search` does.
 * Returns −(lists scored) (the answer is approximate); the number of vectors scored is at `scored`.
 * Scratch: 8·ceil(nlist/8) + 2·nprobe + f + 2·rerank + 4·ceil(k/4) + 8 words.
 */
export function searchQ(q: usize, f: i32, k: i32, nprobe: i32, rerank: i32, radiusWeight: f32, centCodes: usize, centScale: usize, radius: usize, nlist: i32, listTile: usize, listSize: usize, listBlock: usize, blocks: usize, vecs: usize, rows: usize, mask: usize, outItems: usize, outScores: usize, scratch: usize, scored: usize): i32 {
  const ctiles = (nlist + 7) >> 3;
  const P = min(nprobe, nlist);
  const bounds = scratch;
  const selS = bounds + (<usize>ctiles << 5);
  const selI = selS + (<usize>P << 2);
  const qw = selI + (<usize>P << 2);
  const cs = qw + (<usize>f << 2);
  const ci = cs + (<usize>rerank << 2);
  const kth = ci + (<usize>rerank << 2);
  const tmp = kth + (<usize>((k + 3) >> 2) << 4);
  const qbytes = <usize>f << 2;
  const tileBytes = <usize>f << 3;
  const pairs = f >> 1;
  const qn = Mathf.sqrt(dot(q, q, qbytes));
  // approximate bounds of every list, the P highest kept in a min-heap
  const tc = f32x4.splat(weights(q, centScale, f, qw));
  const qnv = f32x4.splat(qn * radiusWeight);
  const rest = qn * (1 - radiusWeight);
  for (let t = 0; t < ctiles; t++) {
    tileDots(qw, centCodes + <usize>t * tileBytes, pairs);
    const r = radius + (<usize>t << 5);
    const o = bounds + (<usize>t << 5);
    v128.store(o, f32x4.add(f32x4.mul(tc, f32x4.convert_i32x4_s(lo)), f32x4.mul(qnv, v128.load(r))));
    v128.store(o, f32x4.add(f32x4.mul(tc, f32x4.convert_i32x4_s(hi)), f32x4.mul(qnv, v128.load(r, 16))), 16);
  }
  let sel = 0;
  for (let j = 0; j < nlist; j++) {
    const b = load<f32>(bounds + (<usize>j << 2));
    if (sel < P) minUp(selS, selI, sel++, b, j);
    else if (b > load<f32>(selS)) {
      store<f32>(selS, b);
      store<i32>(selI, j);
      minDown(selS, selI, 0, P);
    }
  }
  // highest first: pop the minimum into the last free place; mark the chosen lists
  for (let j = P - 1; j > 0; j--) {
    const b = load<f32>(selS);
    const id = load<i32>(selI);
    store<f32>(selS, load<f32>(selS + (<usize>j << 2)));
    store<i32>(selI, load<i32>(selI + (<usize>j << 2)));
    minDown(selS, selI, 0, j);
    store<f32>(selS + (<usize>j << 2), b);
    store<i32>(selI + (<usize>j << 2), id);
  }
  for (let j = 0; j < P; j++) store<f32>(bounds + (<usize>load<i32>(selI + (<usize>j << 2)) << 2), NaN);
  for (let j = 0; j < k; j++) store<f32>(kth + (<usize>j << 2), -Infinity);
  const lastK = kth + (<usize>(k - 1) << 2);
  let count = 0;
  let thr: f32 = -Infinity;
  let probed = 0;
  let seen = 0;
  let next = 0;
  // the chosen lists (ends on the bound), then others in list order while fewer than k candidates
  for (let o = 0; ; o++) {
    let L: i32;
    if (o < P) {
      L = load<i32>(selI + (<usize>o << 2));
      // its ball bound (radius weight 1) below the k-th approximate score (so k candidates exist already)
      if (load<f32>(selS + (<usize>o << 2)) + rest * load<f32>(radius + (<usize>L << 2)) < load<f32>(lastK)) break;
    } else {
      if (count >= k) break;
      while (next < nlist && isNaN(load<f32>(bounds + (<usize>next << 2)))) next++;
      if (next >= nlist) break;
      L = next++;
    }
    probed++;
    const n = load<i32>(listSize + (<usize>L << 2));
    seen += n;
    // q·c_L exactly; the int16 query weights of this list
    const c = blocks + <usize>load<i32>(listBlock + (<usize>L << 2));
    const qcv = f32x4.splat(dot(q, c, qbytes));
    const tv = f32x4.splat(weights(q, c + qbytes, f, qw));
    const t0 = load<i32>(listTile + (<usize>L << 2));
    const ntiles = (n + 7) >> 3;
    let base = c + (qbytes << 1);
    for (let ti = 0; ti < ntiles; ti++) {
      tileDots(qw, base, pairs);
      base += tileBytes;
      const s0 = f32x4.add(qcv, f32x4.mul(tv, f32x4.convert_i32x4_s(lo)));
      const s1 = f32x4.add(qcv, f32x4.mul(tv, f32x4.convert_i32x4_s(hi)));
      const tt = f32x4.splat(thr);
      if (!v128.any_true(v128.or(f32x4.gt(s0, tt), f32x4.gt(s1, tt)))) continue;
      v128.store(tmp, s0);
      v128.store(tmp, s1, 16);
      const slot0 = (t0 + ti) << 3;
      const lanes = min(8, n - (ti << 3));
      for (let i = 0; i < lanes; i++) {
        const s = load<f32>(tmp + (<usize>i << 2));
        if (!(s > thr)) continue;
        const slot = slot0 + i;
        if (mask && load<u8>(mask + <usize>load<i32>(rows + (<usize>slot << 2)))) continue;
        if (count < rerank) {
          minUp(cs, ci, count++, s, slot);
          if (count == rerank) thr = load<f32>(cs);
        } else {
          store<f32>(cs, s);
          store<i32>(ci, slot);
          minDown(cs, ci, 0, count);
          thr = load<f32>(cs);
        }
        // the k best approximate scores, for the stopping rule
        if (s > load<f32>(lastK)) {
          let j = k - 1;
          while (j > 0 && load<f32>(kth + (<usize>(j - 1) << 2)) < s) {
            store<f32>(kth + (<usize>j << 2), load<f32>(kth + (<usize>(j - 1) << 2)));
            j--;
          }
          store<f32>(kth + (<usize>j << 2), s);
        }
      }
    }
  }
  // exact re-rank of the candidates
  for (let j = 0; j < k; j++) {
    store<i32>(outItems + (<usize>j << 2), -1);
    store<f32>(outScores + (<usize>j << 2), -Infinity);
  }
  for (let c = 0; c < count; c++) {
    const slot = load<i32>(ci + (<usize>c << 2));
    const row = load<i32>(rows + (<usize>slot << 2));
    const s = dot(q, vecs + <usize>slot * qbytes, qbytes);
    const ls = load<f32>(outScores + (<usize>(k - 1) << 2));
    const li = load<i32>(outItems + (<usize>(k - 1) << 2));
    if (s < ls || (s == ls && li >= 0 && row > li)) continue;
    insertTop(outItems, outScores, k, s, row);
  }
  store<i32>(scored, seen);
  return -probed;
}

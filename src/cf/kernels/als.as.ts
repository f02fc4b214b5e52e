// ALS hot loops as WebAssembly SIMD (f32x4) kernels, compiled by scripts/build.mjs to
// build/wasm/als.wasm. Everything lives in one imported (shared) WebAssembly.Memory; arguments are
// byte offsets into it, so several worker threads run the same kernels on the same data.
// Matrices are row-major f32; `f` (factors) must be a multiple of 4. Every exported kernel takes a
// half-open range [start, end) of rows plus a thread id `tid`, so a pool can hand out chunks.
// The plain-TypeScript twin of each kernel is in als.ts next to this file (tested against it).

import { scoreTiles } from './assembly/tiles';

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** a · b over f floats. */
@inline function dot(a: usize, b: usize, f: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const bytes = <usize>f << 2;
  let k: usize = 0;
  for (; k + 64 <= bytes; k += 64) {
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + k), v128.load(b + k)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(a + k, 16), v128.load(b + k, 16)));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(a + k, 32), v128.load(b + k, 32)));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(a + k, 48), v128.load(b + k, 48)));
  }
  for (; k < bytes; k += 16) a0 = f32x4.add(a0, f32x4.mul(v128.load(a + k), v128.load(b + k)));
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
}

/** y += s · x over f floats. */
@inline function axpy(y: usize, s: f32, x: usize, f: i32): void {
  const sv = f32x4.splat(s);
  const bytes = <usize>f << 2;
  for (let k: usize = 0; k < bytes; k += 16) v128.store(y + k, f32x4.add(v128.load(y + k), f32x4.mul(sv, v128.load(x + k))));
}

/** out = A v, A symmetric f×f row-major; four rows at a time, lanes summed by a 4×4 transpose-add. */
function matvec(A: usize, v: usize, out: usize, f: i32): void {
  const bytes = <usize>f << 2;
  for (let j: usize = 0; j < <usize>f; j += 4) {
    const r0 = A + j * bytes;
    const r1 = r0 + bytes, r2 = r1 + bytes, r3 = r2 + bytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let k: usize = 0; k < bytes; k += 16) {
      const x = v128.load(v + k);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(r0 + k), x));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(r1 + k), x));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(r2 + k), x));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(r3 + k), x));
    }
    // [a0 a1 a2 a3] → lane i = hsum(ai)
    const t0 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 2, 4, 6), v128.shuffle<f32>(a0, a1, 1, 3, 5, 7));
    const t1 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 2, 4, 6), v128.shuffle<f32>(a2, a3, 1, 3, 5, 7));
    v128.store(out + (j << 2), f32x4.add(v128.shuffle<f32>(t0, t1, 0, 2, 4, 6), v128.shuffle<f32>(t0, t1, 1, 3, 5, 7)));
  }
}

/**
 * Conjugate-gradient ALS half-step for rows [start, end) (Takács et al. 2011; implicit's
 * least_squares_cg): warm-started from X's current rows, `cgSteps` steps each, solving
 * (YtY + Σ (|c|−1) y yᵀ) x = Σ_{c>0} c y. `YtY` already includes the regularization on its diagonal.
 * CSR: indptr (i32, rows+1), indices (i32), data (f32 confidences; negative = negative evidence).
 * Scratch per thread: 3·f floats at scratch + tid·3·f·4.
 */
export function cg(start: i32, end: i32, tid: i32, indptr: usize, indices: usize, data: usize, X: usize, Y: usize, YtY: usize, f: i32, cgSteps: i32, scratch: usize): void {
  const bytes = <usize>f << 2;
  const r = scratch + <usize>tid * 3 * bytes;
  const p = r + bytes;
  const Ap = p + bytes;
  for (let u = start; u < end; u++) {
    const x = X + <usize>u * bytes;
    const a = load<i32>(indptr + (<usize>u << 2));
    const b = load<i32>(indptr + (<usize>(u + 1) << 2));
    // r = b − A x = Σ c y − YtY x − Σ (c−1)(y·x) y
    matvec(YtY, x, r, f);
    for (let k: usize = 0; k < bytes; k += 16) v128.store(r + k, f32x4.neg(v128.load(r + k)));
    for (let q = a; q < b; q++) {
      let c = load<f32>(data + (<usize>q << 2));
      const y = Y + <usize>load<i32>(indices + (<usize>q << 2)) * bytes;
      let s: f32;
      if (c > 0) s = c - (c - 1) * dot(y, x, f);
      else {
        c = -c;
        s = -(c - 1) * dot(y, x, f);
      }
      axpy(r, s, y, f);
    }
    memory.copy(p, r, bytes);
    let rsold = dot(r, r, f);
    if (rsold < 1e-20) continue;
    for (let it = 0; it < cgSteps; it++) {
      matvec(YtY, p, Ap, f);
      for (let q = a; q < b; q++) {
        const c = Mathf.abs(load<f32>(data + (<usize>q << 2)));
        const y = Y + <usize>load<i32>(indices + (<usize>q << 2)) * bytes;
        axpy(Ap, (c - 1) * dot(y, p, f), y, f);
      }
      const alpha = rsold / dot(p, Ap, f);
      axpy(x, alpha, p, f);
      axpy(r, -alpha, Ap, f);
      const rsnew = dot(r, r, f);
      if (rsnew < 1e-20) break;
      const beta = f32x4.splat(rsnew / rsold);
      for (let k: usize = 0; k < bytes; k += 16) v128.store(p + k, f32x4.add(v128.load(r + k), f32x4.mul(beta, v128.load(p + k))));
      rsold = rsnew;
    }
  }
}

/**
 * Partial Gram matrix of rows [start, end) of Y (n × f): out = Σ y yᵀ (f×f, overwritten), where
 * out = outBase + (start / chunk)·f·f·4 — one slot per chunk, so the sum over slots is the same
 * whatever thread ran which chunk. Four rows at a time.
 */
export function gram(start: i32, end: i32, tid: i32, Y: usize, f: i32, outBase: usize, chunk: i32): void {
  const bytes = <usize>f << 2;
  const out = outBase + <usize>(start / chunk) * <usize>f * bytes;
  memory.fill(out, 0, <usize>f * bytes);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const y0 = Y + <usize>i * bytes, y1 = y0 + bytes, y2 = y1 + bytes, y3 = y2 + bytes;
    for (let j: usize = 0; j < <usize>f; j++) {
      const o = out + j * bytes;
      const s0 = f32x4.splat(load<f32>(y0 + (j << 2))), s1 = f32x4.splat(load<f32>(y1 + (j << 2)));
      const s2 = f32x4.splat(load<f32>(y2 + (j << 2))), s3 = f32x4.splat(load<f32>(y3 + (j << 2)));
      for (let k: usize = 0; k < bytes; k += 16) {
        const t = f32x4.add(f32x4.add(f32x4.mul(s0, v128.load(y0 + k)), f32x4.mul(s1, v128.load(y1 + k))), f32x4.add(f32x4.mul(s2, v128.load(y2 + k)), f32x4.mul(s3, v128.load(y3 + k))));
        v128.store(o + k, f32x4.add(v128.load(o + k), t));
      }
    }
  }
  for (; i < end; i++) {
    const y = Y + <usize>i * bytes;
    for (let j: usize = 0; j < <usize>f; j++) axpy(out + j * bytes, load<f32>(y + (j << 2)), y, f);
  }
}

/**
 * Training loss terms of rows [start, end): for each row u, Σ_{i∈N(u)} [|c|(p − s)² − s²] + xᵀ(YtY)x
 * (s = x·y, p = 1 for c > 0 else 0), written as f64 to lossOut[u]; `YtY` without regularization.
 * The full loss adds the regularization outside. Scratch: f floats at scratch + tid·f·4.
 */
export function loss(start: i32, end: i32, tid: i32, indptr: usize, indices: usize, data: usize, X: usize, Y: usize, YtY: usize, f: i32, lossOut: usize, scratch: usize): void {
  const bytes = <usize>f << 2;
  const t = scratch + <usize>tid * bytes;
  for (let u = start; u < end; u++) {
    const x = X + <usize>u * bytes;
    matvec(YtY, x, t, f);
    let l: f64 = <f64>dot(x, t, f);
    const a = load<i32>(indptr + (<usize>u << 2));
    const b = load<i32>(indptr + (<usize>(u + 1) << 2));
    for (let q = a; q < b; q++) {
      const c = load<f32>(data + (<usize>q << 2));
      const s = <f64>dot(Y + <usize>load<i32>(indices + (<usize>q << 2)) * bytes, x, f);
      const pr: f64 = c > 0 ? 1 : 0;
      l += <f64>Mathf.abs(c) * (pr - s) * (pr - s) - s * s;
    }
    store<f64>(lossOut + (<usize>u << 3), l);
  }
}

/**
 * Top-k by inner product for query rows [start, end) of Q (n × f): scores all `items` rows of Yp
 * (the item factors packed by {@link packItems}: stride/8 tiles of f × 8, zero-padded), four
 * queries × eight items per register tile, each tile one contiguous 32·f-byte block. Items listed in the exclusion CSR (exIndptr over query rows,
 * exIndices item rows) are skipped. Writes k item rows (i32) and scores (f32) per query to
 * outItems/outScores + q·k·4, best first; fewer than k valid items leave −1 / −inf.
 * Scratch per thread: 4·stride floats at scratch + tid·4·stride·4.
 */
export function topk(start: i32, end: i32, tid: i32, Q: usize, Yp: usize, items: i32, stride: i32, f: i32, k: i32, exIndptr: usize, exIndices: usize, outItems: usize, outScores: usize, scratch: usize): void {
  const sbytes = <usize>stride << 2;
  const S = scratch + <usize>tid * 4 * sbytes;
  const qbytes = <usize>f << 2;
  for (let q0 = start; q0 < end; q0 += 4) {
    const nq = min(4, end - q0);
    // queries beyond `end` in the last tile repeat the last query; their scores are not used
    const x0 = Q + <usize>q0 * qbytes;
    const x1 = Q + <usize>min(q0 + 1, end - 1) * qbytes;
    const x2 = Q + <usize>min(q0 + 2, end - 1) * qbytes;
    const x3 = Q + <usize>min(q0 + 3, end - 1) * qbytes;
    for (let i: usize = 0; i < <usize>stride; i += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let col = Yp + i * qbytes;
      for (let d: usize = 0; d < qbytes; d += 4) {
        const y0 = v128.load(col), y1 = v128.load(col, 16);
        let s = v128.load32_splat(x0 + d);
        c00 = f32x4.add(c00, f32x4.mul(s, y0)); c01 = f32x4.add(c01, f32x4.mul(s, y1));
        s = v128.load32_splat(x1 + d);
        c10 = f32x4.add(c10, f32x4.mul(s, y0)); c11 = f32x4.add(c11, f32x4.mul(s, y1));
        s = v128.load32_splat(x2 + d);
        c20 = f32x4.add(c20, f32x4.mul(s, y0)); c21 = f32x4.add(c21, f32x4.mul(s, y1));
        s = v128.load32_splat(x3 + d);
        c30 = f32x4.add(c30, f32x4.mul(s, y0)); c31 = f32x4.add(c31, f32x4.mul(s, y1));
        col += 32;
      }
      const o = S + (i << 2);
      v128.store(o, c00); v128.store(o, c01, 16);
      v128.store(o + sbytes, c10); v128.store(o + sbytes, c11, 16);
      v128.store(o + 2 * sbytes, c20); v128.store(o + 2 * sbytes, c21, 16);
      v128.store(o + 3 * sbytes, c30); v128.store(o + 3 * sbytes, c31, 16);
    }
    for (let j = 0; j < nq; j++) {
      const q = q0 + j;
      const row = S + <usize>j * sbytes;
      // padding and excluded items can never enter the list
      for (let i = items; i < stride; i++) store<f32>(row + (<usize>i << 2), -Infinity);
      const ea = load<i32>(exIndptr + (<usize>q << 2));
      const eb = load<i32>(exIndptr + (<usize>(q + 1) << 2));
      for (let e = ea; e < eb; e++) store<f32>(row + (<usize>load<i32>(exIndices + (<usize>e << 2)) << 2), -Infinity);
      selectTopk(row, stride, k, outItems + <usize>q * (<usize>k << 2), outScores + <usize>q * (<usize>k << 2));
    }
  }
}

/**
 * Top-k by inner product for ONE query `q` (f floats) over the packed items `Yp` (see
 * {@link packItems}): the single-request path of serving. {@link topk} scores four queries per
 * tile, so one query would pay for four; here `scoreTiles` (assembly/tiles.ts) lets two tiles share each query element.
 * Exclusions are `nEx` item rows at `exIndices`; output as {@link topk} (k rows and scores, best
 * first, −1 / −inf where fewer remain). Scratch: `stride` floats.
 */
export function topk1(q: usize, Yp: usize, items: i32, stride: i32, f: i32, k: i32, exIndices: usize, nEx: i32, outItems: usize, outScores: usize, scratch: usize): void {
  scoreTiles(q, Yp, stride >> 3, f, scratch);
  for (let j = items; j < stride; j++) store<f32>(scratch + (<usize>j << 2), -Infinity);
  for (let e = 0; e < nEx; e++) store<f32>(scratch + (<usize>load<i32>(exIndices + (<usize>e << 2)) << 2), -Infinity);
  selectTopk(scratch, stride, k, outItems, outScores);
}

/** Top-k of n scores into a sorted list (best first); a SIMD threshold test skips most items. Ties keep the lower index. */
function selectTopk(scores: usize, n: i32, k: i32, oi: usize, os: usize): void {
  for (let j = 0; j < k; j++) {
    store<i32>(oi + (<usize>j << 2), -1);
    store<f32>(os + (<usize>j << 2), -Infinity);
  }
  let thr: f32 = -Infinity;
  const last = os + (<usize>(k - 1) << 2);
  for (let i = 0; i < n; i += 4) {
    const v = v128.load(scores + (<usize>i << 2));
    if (!v128.any_true(f32x4.gt(v, f32x4.splat(thr)))) continue;
    for (let l = 0; l < 4; l++) {
      const s = load<f32>(scores + (<usize>(i + l) << 2));
      if (!(s > thr)) continue;
      // insert into the sorted list, dropping the last
      let j = k - 1;
      while (j > 0 && load<f32>(os + (<usize>(j - 1) << 2)) < s) {
        store<f32>(os + (<usize>j << 2), load<f32>(os + (<usize>(j - 1) << 2)));
        store<i32>(oi + (<usize>j << 2), load<i32>(oi + (<usize>(j - 1) << 2)));
        j--;
      }
      store<f32>(os + (<usize>j << 2), s);
      store<i32>(oi + (<usize>j << 2), i + l);
      thr = load<f32>(last);
    }
  }
}

/**
 * Pack rows [start, end) of Y (n × f) for {@link topk}: item i, factor d goes to
 * Yp[(i >> 3)·8f + 8d + (i & 7)]. Call with start and end multiples of 8 (or end = n); padding
 * items of the last tile must be zero-filled by the caller.
 */
export function packItems(start: i32, end: i32, tid: i32, Y: usize, f: i32, Yp: usize): void {
  for (let i = start; i < end; i++) {
    const y = Y + (<usize>i * <usize>f << 2);
    const tile = Yp + ((<usize>(i >> 3) * <usize>f * 8 + <usize>(i & 7)) << 2);
    for (let d = 0; d < f; d++) store<f32>(tile + (<usize>d << 5), load<f32>(y + (<usize>d << 2)));
  }
}

/**
 * Fold-in system for one row: A += Σ (|c|−1) y yᵀ and b += Σ_{c>0} c y over entries [start, end)
 * of `items`/`conf` (A f×f and b f, both f32, A pre-filled with YᵀY + λI by the caller). The solve
 * (Cholesky, f³/6) is done in TypeScript. Four entries at a time, like {@link gram}.
 */
export function foldIn(start: i32, end: i32, tid: i32, items: usize, conf: usize, Y: usize, f: i32, A: usize, b: usize): void {
  const bytes = <usize>f << 2;
  let q = start;
  for (; q + 4 <= end; q += 4) {
    const c0 = load<f32>(conf + (<usize>q << 2)), c1 = load<f32>(conf + (<usize>(q + 1) << 2));
    const c2 = load<f32>(conf + (<usize>(q + 2) << 2)), c3 = load<f32>(conf + (<usize>(q + 3) << 2));
    const y0 = Y + <usize>load<i32>(items + (<usize>q << 2)) * bytes, y1 = Y + <usize>load<i32>(items + (<usize>(q + 1) << 2)) * bytes;
    const y2 = Y + <usize>load<i32>(items + (<usize>(q + 2) << 2)) * bytes, y3 = Y + <usize>load<i32>(items + (<usize>(q + 3) << 2)) * bytes;
    const w0 = Mathf.abs(c0) - 1, w1 = Mathf.abs(c1) - 1, w2 = Mathf.abs(c2) - 1, w3 = Mathf.abs(c3) - 1;
    for (let j: usize = 0; j < <usize>f; j++) {
      const o = A + j * bytes;
      const s0 = f32x4.splat(w0 * load<f32>(y0 + (j << 2))), s1 = f32x4.splat(w1 * load<f32>(y1 + (j << 2)));
      const s2 = f32x4.splat(w2 * load<f32>(y2 + (j << 2))), s3 = f32x4.splat(w3 * load<f32>(y3 + (j << 2)));
      for (let k: usize = 0; k < bytes; k += 16) {
        const t = f32x4.add(f32x4.add(f32x4.mul(s0, v128.load(y0 + k)), f32x4.mul(s1, v128.load(y1 + k))), f32x4.add(f32x4.mul(s2, v128.load(y2 + k)), f32x4.mul(s3, v128.load(y3 + k))));
        v128.store(o + k, f32x4.add(v128.load(o + k), t));
      }
    }
    if (c0 > 0) axpy(b, c0, y0, f);
    if (c1 > 0) axpy(b, c1, y1, f);
    if (c2 > 0) axpy(b, c2, y2, f);
    if (c3 > 0) axpy(b, c3, y3, f);
  }
  for (; q < end; q++) {
    const c = load<f32>(conf + (<usize>q << 2));
    const y = Y + <usize>load<i32>(items + (<usize>q << 2)) * bytes;
    const w = Mathf.abs(c) - 1;
    for (let j: usize = 0; j < <usize>f; j++) axpy(A + j * bytes, w * load<f32>(y + (j << 2)), y, f);
    if (c > 0) axpy(b, c, y, f);
  }
}

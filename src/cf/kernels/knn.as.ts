// Item-kNN's all-pairs neighbour search (itemknn.ts `allPairsKnn`) as a WebAssembly kernel, compiled
// by scripts/build.mjs to build/wasm/knn.wasm and run on the KernelPool's threads (workers/pool.ts)
// over one shared memory. Arguments are byte offsets into it. Its plain-TypeScript twin is
// `allPairsKnn` in itemknn.ts; the two give the same bytes (itemknn.test.ts), so the thread count
// never changes a model.

/** (s1, j1) ranks before (s2, j2): the higher score, ties to the lower row (core/topk.ts's order). */
@inline function before(s1: f32, j1: i32, s2: f32, j2: i32): bool {
  return s1 > s2 || (s1 == s2 && j1 < j2);
}

/**
 * Rows [start, end) of the top-`k` neighbours of W·Wᵀ, W items × users (CSR wp/wi/wd) and Wt its
 * transpose (tp/ti/td). Row i accumulates acc[j] += W[i,u]·W[j,u] over the users u of i in the
 * order of the CSRs, each step in f64 and stored as f32 (as the TypeScript twin's Float32Array
 * does), then keeps the k best j (self included), best first, and drops trailing zero scores.
 * Writes rows at outItems + i·k·4, scores at outScores + i·k·4, the count kept at outCount + i·4.
 * Scratch per thread at scratch + tid·stride: acc (n f32, all zero between rows), touched (n i32)
 * and seen (n u8), stride = 9n rounded up to 16 bytes.
 */
export function knnRows(start: i32, end: i32, tid: i32, wp: usize, wi: usize, wd: usize, tp: usize, ti: usize, td: usize, n: i32, k: i32, outItems: usize, outScores: usize, outCount: usize, scratch: usize): void {
  const stride = ((<usize>n * 9 + 15) >> 4) << 4;
  const acc = scratch + <usize>tid * stride;
  const touched = acc + (<usize>n << 2);
  const seen = touched + (<usize>n << 2);
  for (let i = start; i < end; i++) {
    let t = 0;
    const pb = load<i32>(wp + (<usize>(i + 1) << 2));
    for (let p = load<i32>(wp + (<usize>i << 2)); p < pb; p++) {
      const u = load<i32>(wi + (<usize>p << 2));
      const x = <f64>load<f32>(wd + (<usize>p << 2));
      const qb = load<i32>(tp + (<usize>(u + 1) << 2));
      for (let q = load<i32>(tp + (<usize>u << 2)); q < qb; q++) {
        const j = load<i32>(ti + (<usize>q << 2));
        if (!load<u8>(seen + <usize>j)) {
          store<u8>(seen + <usize>j, 1);
          store<i32>(touched + (<usize>t << 2), j);
          t++;
        }
        const a = acc + (<usize>j << 2);
        store<f32>(a, <f32>(<f64>load<f32>(a) + x * <f64>load<f32>(td + (<usize>q << 2))));
      }
    }
    // the k best of the touched rows, kept sorted best first
    const oi = outItems + <usize>i * (<usize>k << 2);
    const os = outScores + <usize>i * (<usize>k << 2);
    let m = 0;
    for (let c = 0; c < t; c++) {
      const j = load<i32>(touched + (<usize>c << 2));
      const s = load<f32>(acc + (<usize>j << 2));
      if (m == k && !before(s, j, load<f32>(os + (<usize>(k - 1) << 2)), load<i32>(oi + (<usize>(k - 1) << 2)))) continue;
      let e = m < k ? m++ : k - 1;
      while (e > 0 && before(s, j, load<f32>(os + (<usize>(e - 1) << 2)), load<i32>(oi + (<usize>(e - 1) << 2)))) {
        store<f32>(os + (<usize>e << 2), load<f32>(os + (<usize>(e - 1) << 2)));
        store<i32>(oi + (<usize>e << 2), load<i32>(oi + (<usize>(e - 1) << 2)));
        e--;
      }
      store<f32>(os + (<usize>e << 2), s);
      store<i32>(oi + (<usize>e << 2), j);
    }
    while (m > 0 && load<f32>(os + (<usize>(m - 1) << 2)) == 0) m--;
    store<i32>(outCount + (<usize>i << 2), m);
    for (let c = 0; c < t; c++) {
      const j = load<i32>(touched + (<usize>c << 2));
      store<f32>(acc + (<usize>j << 2), 0);
      store<u8>(seen + <usize>j, 0);
    }
  }
}

// Shared AssemblyScript helpers, imported by the kernel files (als.as.ts, src/index/kernels/ivf.as.ts)
// and compiled into each of them. Not a kernel module itself: scripts/build.mjs compiles only
// `*.as.ts`, and tsconfig leaves `assembly/` folders to AssemblyScript.
//
// Tiles: 8 vectors of f floats interleaved, vector i component d at tiles[(i >> 3)·8f + 8d + (i & 7)]
// (the layout of als.as.ts `packItems`).

/** out[i] = q · v_i for the 8·ntiles vectors of `tiles`; two tiles share each query element. */
export function scoreTiles(q: usize, tiles: usize, ntiles: i32, f: i32, out: usize): void {
  const qbytes = <usize>f << 2;
  const tileBytes = qbytes << 3;
  let t = 0;
  for (; t + 2 <= ntiles; t += 2) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
    let ca = tiles + <usize>t * tileBytes;
    let cb = ca + tileBytes;
    for (let d: usize = 0; d < qbytes; d += 4) {
      const s = v128.load32_splat(q + d);
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(ca)));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(ca, 16)));
      b0 = f32x4.add(b0, f32x4.mul(s, v128.load(cb)));
      b1 = f32x4.add(b1, f32x4.mul(s, v128.load(cb, 16)));
      ca += 32;
      cb += 32;
    }
    const o = out + (<usize>t << 5);
    v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, b0, 32); v128.store(o, b1, 48);
  }
  if (t < ntiles) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let ca = tiles + <usize>t * tileBytes;
    for (let d: usize = 0; d < qbytes; d += 4) {
      const s = v128.load32_splat(q + d);
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(ca)));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(ca, 16)));
      ca += 32;
    }
    const o = out + (<usize>t << 5);
    v128.store(o, a0); v128.store(o, a1, 16);
  }
}

// Build step run by `npm install` / `npm ci` (the "prepare" script) and `npm run build`:
// compiles every AssemblyScript kernel `src/**/*.as.ts` to `build/wasm/<name>.wasm` with SIMD on.
// Binaries are never committed; this script makes them from source in about a second each.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';
import { createRequire } from 'node:module';

function find(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.as.ts')) out.push(p);
  }
  return out;
}

const require = createRequire(import.meta.url);
let asc;
try {
  asc = join(require.resolve('assemblyscript/package.json'), '..', 'bin', 'asc.js');
} catch {
  console.error('build: assemblyscript is not installed; run `npm install` first');
  process.exit(1);
}
mkdirSync('build/wasm', { recursive: true });
for (const src of find('src')) {
  const name = basename(src, '.as.ts');
  const out = join('build', 'wasm', `${name}.wasm`);
  const r = spawnSync(process.execPath, [asc, src, '-o', out, '-O3', '--noAssert', '--enable', 'simd', '--runtime', 'stub', '--initialMemory', '1', '--importMemory', '--sharedMemory', '--maximumMemory', '65536', '--enable', 'threads'], { stdio: 'inherit' });
  if (r.status !== 0) { console.error(`build: failed to compile ${src}`); process.exit(r.status ?? 1); }
  console.error(`build: ${src} -> ${out}`);
}

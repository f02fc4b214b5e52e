// Build step run by `npm install` / `npm ci` / `npm pack` (the "prepare" script) and `npm run build`:
//  1. compiles every AssemblyScript kernel `src/**/*.as.ts` to `build/wasm/<name>.wasm` with SIMD on;
//  2. compiles the TypeScript sources (tsconfig.build.json: no tests) to JavaScript in `dist/src/`,
//     one file at a time with TypeScript's own emitter (`.ts` import specifiers become `.js`; types
//     are checked by `npm test`, not here), and copies beside them what the code reads relative to
//     its own file at run time: every other file under src/ (web pages, worker .mjs) and the
//     kernels as `dist/build/wasm/` (so `../../../build/wasm/` from dist/src/cf/kernels/ resolves);
//  3. gzips the web app's files once (src/server/web-files.ts serves them) to `build/web/<name>.gz`
//     and `dist/build/web/`, so a server does not compress them when it starts.
// dist/ mirrors the repository layout, so no source file needs to know whether it runs compiled.
// Binaries and dist/ are never committed; `bin/deepcut.js` runs dist/ when it is up to date.
//
// `node scripts/build.mjs --out DIR` writes the compiled tree to DIR instead of dist/ (the package
// test builds into a temporary folder so that it never replaces dist/ under running tests).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, existsSync, readFileSync, writeFileSync, rmSync, copyFileSync } from 'node:fs';
import { join, basename, dirname, relative } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : join(root, 'dist');

function find(dir, keep, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}

function resolveTool(pkg) {
  try {
    return require.resolve(pkg);
  } catch {
    console.error(`build: ${pkg.split('/')[0]} is not installed; run \`npm install\` first (it is a devDependency)`);
    process.exit(1);
  }
}

/** 1. build/wasm/<name>.wasm from src/**\/<name>.as.ts. */
function buildWasm() {
  const asc = join(resolveTool('assemblyscript/package.json'), '..', 'bin', 'asc.js');
  const wasmDir = join(root, 'build', 'wasm');
  mkdirSync(wasmDir, { recursive: true });
  for (const src of find(join(root, 'src'), (p) => p.endsWith('.as.ts'))) {
    const name = basename(src, '.as.ts');
    const dest = join(wasmDir, `${name}.wasm`);
    const r = spawnSync(process.execPath, [asc, src, '-o', dest, '-O3', '--noAssert', '--enable', 'simd', '--runtime', 'stub', '--initialMemory', '1', '--importMemory', '--sharedMemory', '--maximumMemory', '65536', '--enable', 'threads'], { stdio: 'inherit' });
    if (r.status !== 0) { console.error(`build: failed to compile ${relative(root, src)}`); process.exit(r.status ?? 1); }
    console.error(`build: ${relative(root, src)} -> ${relative(root, dest)}`);
  }
}

/** 2. <out>/src/**\/*.js from the sources, plus the files they read at run time. */
async function buildDist() {
  const t0 = performance.now();
  const ts = (await import(resolveTool('typescript'))).default;
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  if (parsed.errors.length) throw new Error(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  // Per-file emit: ESM output must be asked for explicitly (NodeNext would need package.json lookups).
  const options = { ...parsed.options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: false, declaration: false, sourceMap: false };
  rmSync(out, { recursive: true, force: true });
  const emit = (file, text) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  for (const src of parsed.fileNames) {
    const r = ts.transpileModule(readFileSync(src, 'utf8'), { compilerOptions: options, fileName: src, reportDiagnostics: true });
    if (r.diagnostics?.length) {
      for (const d of r.diagnostics) console.error(`build: ${relative(root, src)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
      process.exit(1);
    }
    emit(join(out, relative(root, src)).replace(/\.ts$/, '.js'), r.outputText);
  }
  // What the code reads beside itself: every non-TypeScript file under src/ but tests and fixtures.
  const assets = find(join(root, 'src'), (p) => !p.endsWith('.ts') && !basename(p).includes('.test.') && !p.split('/').includes('fixtures'));
  const wasm = find(join(root, 'build', 'wasm'), (p) => p.endsWith('.wasm'));
  if (wasm.length === 0) { console.error('build: build/wasm is empty: the kernels must be built first'); process.exit(1); }
  for (const f of [...assets, ...wasm]) {
    mkdirSync(dirname(join(out, relative(root, f))), { recursive: true });
    copyFileSync(f, join(out, relative(root, f)));
  }
  // Written last: bin/deepcut.js runs dist/ only when this stamp is newer than every source file.
  writeFileSync(join(out, '.built'), new Date().toISOString() + '\n');
  console.error(`build: ${parsed.fileNames.length} modules and ${assets.length + wasm.length} assets -> ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** 3. <root>/build/web/<name>.gz and <out>/build/web/<name>.gz, through the compiled web-files module (one list of files, one gzip level). */
async function buildWebGzip() {
  const t0 = performance.now();
  const { webSources, gzipWeb } = await import(pathToFileURL(join(out, 'src', 'server', 'web-files.js')).href);
  let n = 0;
  // the libraries from this package's node_modules, also when `out` is a folder outside it
  for (const [name, path] of webSources(join(root, 'package.json'))) {
    const gz = gzipWeb(readFileSync(path));
    for (const dir of [join(root, 'build', 'web'), join(out, 'build', 'web')]) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, `${name}.gz`), gz);
    }
    n++;
  }
  console.error(`build: ${n} web files gzipped -> build/web in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}

// An installed package ships dist/ prebuilt and no src/; npm may still run its "prepare" (it does for
// a package installed from a tarball or a folder when install scripts are allowed): nothing to do.
if (!existsSync(join(root, 'src'))) {
  console.error('build: no src/ here (an installed package): dist/ is prebuilt');
  process.exit(0);
}
if (!args.includes('--out') || !existsSync(join(root, 'build', 'wasm'))) buildWasm();
await buildDist();
await buildWebGzip();

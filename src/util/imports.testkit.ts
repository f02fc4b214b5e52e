/**
 * Which modules a process loads, for tests that keep a start-up path light (an API node without
 * the pipeline's steps, `deepcut analyze` without TensorFlow.js or the store). The process runs
 * under tsx with a module loader hook that records every module it resolves and who asked for it,
 * so a failure names the chain of imports that got there — dynamic imports that run included.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository's root folder. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Every module a node process loads, as child URL → the URL that imported it first. `args` follow
 * `node --import tsx --import <recorder>`: a script and its arguments, or `-e` code; cwd is the
 * repository root. The process must exit 0.
 */
export function loadedBy(args: string[]): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'dc-imports-'));
  try {
    const out = join(dir, 'loaded.jsonl');
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(spec, context, next) {
  const r = await next(spec, context);
  appendFileSync(file, JSON.stringify([r.url, context.parentURL ?? null]) + '\\n');
  return r;
}
`,
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { file: ${JSON.stringify(out)} } });\n`);
    writeFileSync(out, '');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(register).href, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `node ${args.join(' ')} failed: ${r.stderr}`);
    const by = new Map<string, string>();
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      if (!line) continue;
      const [url, parent] = JSON.parse(line) as [string, string | null];
      if (!by.has(url)) by.set(url, parent ?? '');
    }
    return by;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The modules `entry` (a path from the repository root) loads when imported. */
export function loadedByImport(entry: string): Map<string, string> {
  return loadedBy(['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(join(repoRoot, entry)).href)});`]);
}

const short = (u: string) => (u.startsWith('file:') ? relative(repoRoot, fileURLToPath(u)) : u);

/** The import chain from the entry to `url`, as `a → b → url`. */
export function chain(by: Map<string, string>, url: string): string {
  const out = [short(url)];
  for (let p = by.get(url); p && out.length < 50; p = by.get(p)) out.unshift(short(p));
  return out.join(' → ');
}

/** Modules of `by` that match one of `forbidden`, each as `what: chain`. */
export function forbiddenLoads(by: Map<string, string>, forbidden: { what: string; match: (url: string) => boolean }[]): string[] {
  return [...by.keys()].flatMap((u) => forbidden.filter((f) => f.match(u)).map((f) => `${f.what}: ${chain(by, u)}`));
}

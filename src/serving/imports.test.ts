/**
 * The serving process's walls: loading a published run and starting the server must not load the
 * pipeline's steps or TensorFlow.js (3–5 s of imports; an API node starts in well under a second).
 * Each entry is imported in a fresh node process whose module loader records every module it
 * resolves and who asked for it, so a failure names the chain of imports that got there —
 * dynamic imports run at load time included, lazy ones inside functions not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Modules a serving process must never load. */
const FORBIDDEN: { what: string; match: (url: string) => boolean }[] = [
  { what: 'TensorFlow.js', match: (u) => u.includes('/node_modules/@tensorflow/') },
  { what: 'a pipeline step', match: (u) => /\/src\/pipeline\/(steps|[\w-]+-step)\.ts$/.test(u) },
  { what: 'the audio CNN', match: (u) => u.endsWith('/src/audio/cnn.ts') },
];

/** Every module `entry` loads, as child URL → the URL that imported it first. */
function loadedBy(entry: string): Map<string, string> {
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
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(register).href, '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(join(root, entry)).href)});`], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `importing ${entry} failed: ${r.stderr}`);
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

const short = (u: string) => (u.startsWith('file:') ? relative(root, fileURLToPath(u)) : u);

/** The import chain from the entry to `url`. */
function chain(by: Map<string, string>, url: string): string {
  const out = [short(url)];
  for (let p = by.get(url); p && out.length < 50; p = by.get(p)) out.unshift(short(p));
  return out.join(' → ');
}

for (const entry of ['src/serving/load.ts', 'src/server/run.ts']) {
  test(`${entry} loads neither the pipeline's steps nor TensorFlow.js`, () => {
    const by = loadedBy(entry);
    assert.ok([...by.keys()].some((u) => u.endsWith('/src/serving/live.ts') || u.endsWith('/src/serving/load.ts')), 'the recorder saw the serving modules');
    const bad = [...by.keys()].flatMap((u) => FORBIDDEN.filter((f) => f.match(u)).map((f) => `${f.what}: ${chain(by, u)}`));
    assert.deepEqual(bad, []);
  });
}

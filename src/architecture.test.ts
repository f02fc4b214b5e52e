// The stage walls, checked on every import in src/ (static, `export … from` and dynamic `import()`):
//   1. a stage imports another stage only through its front door (`<stage>/index.ts`);
//   2. a stage imports only the stages the table below lets it (the dependency order of DESIGN.md's
//      data flow: nothing imports a later stage);
//   3. no import circle between files (type-only imports excluded: they vanish at run time).
// A failure names the file, the line and the rule. Tests (`*.test.ts`, `*.testkit.ts`, `testing/`)
// may reach into their own stage and into other stages' testkits; production files may not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));

/**
 * Each stage and the stages it may import, in dependency order (a stage appears after everything it
 * imports). `core` is neutral ground: shared vocabulary every stage may use, each file of it public.
 * The order is the data flow's (ingest → validate → store → signals → models → index → rank → playlists →
 * pipeline → serving → server/web; cli and eval on top) with two turns, each for a reason:
 * - ingest sits after validate and store: ingest parses and calls validate's row checks before it
 *   writes to the store; validate never reads a file.
 * - serving sits beside pipeline, not after it: an API node loads the published run through each
 *   model family's own loader and never imports a pipeline step (nor TensorFlow).
 */
export const STAGES: Record<string, readonly string[]> = {
  core: [],
  generate: ['core'],
  store: ['core'],
  artifacts: ['core'],
  validate: ['core', 'store'],
  ingest: ['core', 'store', 'validate'],
  signals: ['core', 'store'],
  cf: ['core', 'signals'],
  index: ['core', 'cf'],
  text: ['core', 'signals', 'cf', 'index'],
  audio: ['core', 'signals', 'cf', 'index'],
  bandit: ['core', 'store', 'signals', 'generate'],
  rank: ['core', 'signals', 'cf', 'bandit'],
  playlists: ['core', 'store', 'signals', 'cf', 'index', 'text', 'audio', 'rank'],
  serving: ['core', 'store', 'artifacts', 'signals', 'cf', 'index', 'text', 'audio', 'bandit', 'rank', 'playlists'],
  pipeline: ['core', 'store', 'artifacts', 'validate', 'ingest', 'signals', 'cf', 'index', 'text', 'audio', 'bandit', 'rank', 'playlists', 'serving'],
  eval: ['core', 'generate', 'store', 'validate', 'ingest', 'signals', 'cf', 'index', 'text', 'audio', 'bandit', 'rank', 'playlists', 'pipeline', 'serving'],
  server: ['core', 'store', 'artifacts', 'validate', 'ingest', 'signals', 'cf', 'index', 'text', 'audio', 'bandit', 'rank', 'playlists', 'serving', 'pipeline'],
  web: [],
  cli: ['core', 'generate', 'store', 'artifacts', 'validate', 'ingest', 'signals', 'cf', 'index', 'text', 'audio', 'bandit', 'rank', 'playlists', 'serving', 'pipeline', 'eval', 'server'],
};

/** Folders and top-level files that are neutral ground (stage `core`): every file public. */
const CORE = new Set(['core', 'domain', 'util', 'config', 'errors.ts', 'log.ts']);

/**
 * Second front doors: a file of a stage that other stages may import besides its index.ts, each
 * with its reason (a heavy part kept out of the index, so importing the index stays cheap).
 */
export const DOORS: Record<string, Record<string, string>> = {
  audio: {
    'cnn.ts': 'the spectrogram CNN: loads TensorFlow.js, which an API node must never load (serving/imports.test.ts)',
    'coldstart.ts': 'fitting the CNN to CF factors and inferring new tracks: imports cnn.ts',
    'batch.ts': 'analysing files (DSP features, cache, worker pool) without the artifact readers (cf): `deepcut analyze` starts at once',
  },
  text: { 'artifacts.ts': "reading a run's text artifacts without loading the NLP tokenizer's language model" },
  index: { 'ann.ts': 'the usearch HNSW index: a native addon, loaded only by code that builds or reads HNSW files' },
  store: {
    'duckdb.ts': 'the embedded backend by name (tests, benches); the index loads no driver, openStore loads the one the config picks',
    'postgres.ts': 'the PostgreSQL backend by name, likewise',
  },
  pipeline: {
    'steps.ts': 'the DAG of steps: imports every model family (TensorFlow.js among them); only commands that run a pipeline load it',
    'published.ts': 'the published run opened for reading (pointer, snapshot, CF model), without any step',
    'fleet-roles.ts': "the fleet roles (worker, scheduler, a run on the queue): load BullMQ and the leader lock's PostgreSQL client, which serving and the embedded mode never need",
  },
};

/** Imports against the data flow that are allowed, each with its reason. */
const EXCEPTIONS: { from: string; to: string; reason: string }[] = [
  {
    from: 'serving',
    to: 'pipeline/published.ts',
    reason: 'serving reads what the pipeline published: the run layout, its snapshot and model, through this one door that imports no step (serving/imports.test.ts keeps steps and TensorFlow.js out)',
  },
];

interface Import {
  file: string; // relative to src/, with /
  line: number;
  target: string; // relative to src/, with /
  typeOnly: boolean;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'assembly' && name !== 'fixtures') sourceFiles(p, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.as.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]|^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/gm;

/** Every relative import in src/, with its line. */
export function readImports(): Import[] {
  const out: Import[] = [];
  for (const abs of sourceFiles(SRC)) {
    const text = readFileSync(abs, 'utf8');
    const file = relative(SRC, abs).split(sep).join('/');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[3] ?? m[4] ?? m[5];
      const line = text.slice(0, m.index).split('\n').length + (m[0].match(/^\s*/)![0].split('\n').length - 1);
      const target = relative(SRC, resolve(dirname(abs), spec)).split(sep).join('/');
      out.push({ file, line, target, typeOnly: Boolean(m[2]) || /^\s*import\s+type\b/.test(m[0]) });
    }
  }
  return out;
}

/** The stage a file belongs to (`core` for neutral ground). */
export function stageOf(file: string): string {
  const top = file.split('/')[0];
  return CORE.has(top) || !file.includes('/') ? 'core' : top;
}

const isTestFile = (f: string) => /\.test\.ts$|\.testkit\.ts$|(^|\/)testing\//.test(f);
const isFrontDoor = (target: string) => /^[^/]+\/index\.ts$/.test(target) || Object.entries(DOORS).some(([stage, files]) => target.slice(stage.length + 1) in files && target.startsWith(`${stage}/`));

/** The breaches of rules 1 and 2, as `file:line: message`. */
export function wallBreaches(imports: Import[]): string[] {
  const out: string[] = [];
  for (const i of imports) {
    const from = stageOf(i.file);
    const to = stageOf(i.target);
    if (from === to) continue;
    if (EXCEPTIONS.some((e) => e.from === from && i.target === e.to)) continue;
    const test = isTestFile(i.file);
    if (!(from in STAGES)) out.push(`${i.file}:${i.line}: stage ${from} is not in the table of stages (src/architecture.test.ts)`);
    else if (!test && !STAGES[from].includes(to)) out.push(`${i.file}:${i.line}: ${from} imports ${to} (${i.target}), against the data flow (${from} may import: ${STAGES[from].join(', ') || 'nothing'})`);
    if (to !== 'core' && !isFrontDoor(i.target) && !(test && isTestFile(i.target)))
      out.push(`${i.file}:${i.line}: imports ${i.target}, a private file of ${to}; import from ${to}/index.ts`);
  }
  return out;
}

/** Rule 3: every circle of runtime imports between files, each as `a → b → … → a`. */
export function importCircles(imports: Import[]): string[] {
  const graph = new Map<string, Set<string>>();
  for (const i of imports) if (!i.typeOnly) (graph.get(i.file) ?? graph.set(i.file, new Set()).get(i.file)!).add(i.target);
  const circles: string[] = [];
  const state = new Map<string, 1 | 2>(); // 1: on the path, 2: done
  const path: string[] = [];
  const visit = (f: string) => {
    state.set(f, 1);
    path.push(f);
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === 1) circles.push([...path.slice(path.indexOf(t)), t].join(' → '));
      else if (!state.has(t)) visit(t);
    }
    path.pop();
    state.set(f, 2);
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return circles;
}

test('every import goes through a front door and follows the data flow', () => {
  const breaches = wallBreaches(readImports());
  assert.deepEqual(breaches, [], `${breaches.length} breach(es) of the stage walls:\n${breaches.join('\n')}`);
});

test('no import circles between files', () => {
  const circles = importCircles(readImports());
  assert.deepEqual(circles, [], `import circles:\n${circles.join('\n')}`);
});

test('the stage table is a DAG in dependency order and names every folder of src/', () => {
  const names = Object.keys(STAGES);
  names.forEach((s, i) => {
    for (const d of STAGES[s]) assert.ok(names.indexOf(d) < i, `${s} may import ${d}, which comes after it in the table`);
  });
  for (const name of readdirSync(SRC)) {
    if (!statSync(join(SRC, name)).isDirectory()) continue;
    assert.ok(CORE.has(name) || name in STAGES, `src/${name}/ is neither neutral ground nor a stage in the table`);
  }
});

test('the checker catches what it should (self-test on made-up imports)', () => {
  const imp = (file: string, target: string, typeOnly = false): Import => ({ file, line: 3, target, typeOnly });
  assert.deepEqual(wallBreaches([imp('serving/load.ts', 'pipeline/index.ts')]), [
    'serving/load.ts:3: serving imports pipeline (pipeline/index.ts), against the data flow (serving may import: core, store, artifacts, signals, cf, index, text, audio, bandit, rank, playlists)',
  ]);
  assert.deepEqual(wallBreaches([imp('pipeline/runner.ts', 'cf/als.ts')]), ['pipeline/runner.ts:3: imports cf/als.ts, a private file of cf; import from cf/index.ts']);
  assert.deepEqual(wallBreaches([imp('pipeline/runner.ts', 'cf/index.ts'), imp('cf/als.ts', 'core/topk.ts'), imp('cf/als.ts', 'cf/base.ts')]), []);
  assert.deepEqual(importCircles([imp('a/x.ts', 'a/y.ts'), imp('a/y.ts', 'a/x.ts')]), ['a/x.ts → a/y.ts → a/x.ts']);
  assert.deepEqual(importCircles([imp('a/x.ts', 'a/y.ts'), imp('a/y.ts', 'a/x.ts', true)]), []);
});

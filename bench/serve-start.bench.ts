/**
 * How fast deepcut starts: `deepcut --help` and `deepcut analyze one.wav` as a user runs them (new
 * process each time, median of several runs), from the compiled dist/ (what an installed package
 * runs) and, for comparison, from the TypeScript sources through tsx (a checkout without a build).
 * Each group of figures is one {@link Measurement}; the bench runs them in order and merges them.
 * `npm run bench -- serve-start [--runs N]`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, numFlag, type Bench, type BenchResult } from './bench.ts';
import { serveFigures } from './serve-ready.ts';
import { encodeWav } from '../src/generate/synth.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

/** One group of figures of this bench. */
type Measurement = (args: string[]) => Promise<BenchResult>;


/**
 * Hook loaded into the measured process: on exit it prints the process's CPU time (user + system,
 * all threads) so that a figure survives a machine shared with other work.
 */
const cpuHook = 'data:text/javascript,' + encodeURIComponent(`import { isMainThread } from 'node:worker_threads';
if (isMainThread) process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\n@cpu ' + (u.user + u.system) / 1e6 + '\\n'); });`);

/** Run `node <args>` `runs` times; median wall seconds (spawn to exit) and median CPU seconds. */
function timeNode(args: string[], runs: number): { wall: number; cpu: number } {
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, ['--import', cpuHook, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });
    walls.push((performance.now() - t) / 1000);
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    cpus.push(Number(/@cpu ([\d.]+)/.exec(r.stderr)?.[1]));
  }
  return { wall: median(walls), cpu: median(cpus) };
}

/** Newest modification time (ms) under `dir`, tests left out — as bin/deepcut.js decides. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (!e.name.includes('.test.')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Build dist/ unless it is up to date, so that bin/deepcut.js runs the compiled code. */
function ensureBuilt(): string | undefined {
  const stamp = join(root, 'dist', '.built');
  if (existsSync(stamp) && newest(join(root, 'src')) <= statSync(stamp).mtimeMs) return undefined;
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
  return 'dist/ was out of date: built it first (npm run build)';
}

/** 10 s of mono 22.05 kHz: a 440 Hz tone and a click every half second. */
function wav(file: string): void {
  const sr = 22050;
  const pcm = new Float32Array(sr * 10);
  for (let i = 0; i < pcm.length; i++) {
    const click = i % (sr / 2) < 300 ? 0.5 * Math.sin(i) : 0;
    pcm[i] = (0.2 * Math.sin((2 * Math.PI * 440 * i) / sr) + click) * 0.8;
  }
  writeFileSync(file, encodeWav(pcm, sr));
}

/** `deepcut --help`: through bin/deepcut.js on the compiled dist/, and on the sources through tsx. */
const cliHelp: Measurement = async (args) => {
  const runs = numFlag(args, 'runs', 9);
  const built = ensureBuilt();
  const dist = timeNode(['bin/deepcut.js', '--help'], runs);
  const tsx = timeNode(['--import', 'tsx', 'src/cli/main.ts', '--help'], runs);
  const bare = timeNode(['-e', '0'], runs);
  return {
    figures: { help_s: dist.wall, help_cpu_s: dist.cpu, help_tsx_s: tsx.wall, help_tsx_cpu_s: tsx.cpu, node_empty_s: bare.wall, node_empty_cpu_s: bare.cpu },
    targets: { help_s: '<= 0.3', help_cpu_s: '<= 0.3 (help_s on a shared machine)' },
    notes: [
      `medians of ${runs} runs, each a new process, spawn to exit; *_cpu_s is that process's CPU time (user + system, all threads), the figure that survives a machine shared with other work; node_empty_* is \`node -e 0\``,
      'before the lazy commands and the build (issue 14): help 2.5 s, analyze one.wav 3.7 s, every command importing every stage (TensorFlow.js among them) through tsx',
      ...(built ? [built] : []),
    ],
  };
};

/** `deepcut analyze one.wav --no-cache` (10 s of audio), through bin/deepcut.js on dist/. */
const cliAnalyze: Measurement = async (args) => {
  const runs = numFlag(args, 'runs', 9);
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-bench-start-'));
  try {
    const file = join(dir, 'one.wav');
    wav(file);
    ensureBuilt();
    const r = timeNode(['bin/deepcut.js', '--home', dir, 'analyze', file, '--no-cache'], Math.max(3, Math.ceil(runs / 2)));
    return { figures: { analyze_one_wav_s: r.wall, analyze_one_wav_cpu_s: r.cpu }, notes: ['analyze: 10 s of 22.05 kHz mono WAV, features cache off, on the analysis worker pool'] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * The measurements of this bench, run in order and merged into one BENCHMARKS.md section: the CLI's
 * start-up here, the serving process's entry import time and start-to-/readyz in serve-ready.ts.
 */
const measurements: Measurement[] = [cliHelp, cliAnalyze, serveFigures];

const bench: Bench = {
  name: 'serve-start',
  description: 'start-up: `deepcut --help` and `deepcut analyze one.wav` as new processes, compiled (dist/) and through tsx; the serving entry\'s import time and process start to /readyz on the default demo world (also with 10,000 listens since the run)',
  async run(args) {
    const load = loadavg()[0];
    const out: Required<BenchResult> = { figures: {}, targets: {}, notes: [] };
    for (const m of measurements) {
      const r = await m(args);
      Object.assign(out.figures, r.figures);
      Object.assign(out.targets, r.targets ?? {});
      out.notes.push(...(r.notes ?? []));
    }
    out.notes.push(`1-minute load average when the bench started: ${load.toFixed(1)} on ${cpus().length} cores (wall figures grow with it; CPU figures much less)`);
    return out;
  },
};
export default bench;

/**
 * The serving half of `npm run bench -- serve-start` (serve-start.bench.ts runs it): how fast a serving process starts (issue 14 part 5, issue 15 parts 2 and 7), each figure the
 * median of `--runs N` fresh node processes (default 3):
 *
 * - serving_import_s / server_import_s: importing the serving entry (src/serving/load.ts) and the
 *   server's (src/server/run.ts) in a fresh process, measured inside it around the `import()`
 *   (node's own start and the TypeScript loader's registration excluded; `_cpu_s`: CPU time of the
 *   same, steadier than wall time on a shared machine). From dist/ too when a build is present.
 * - serve_ready_s: from spawning a process that starts the server (`runServer`, as `deepcut serve`
 *   does, scheduler on) on the default demo world to its first 200 from /readyz;
 *   serve_ready_10k_s: the same with 10,000 listens stored since the published run, which it folds
 *   in at start (checked: the start log's folded_in must be 10,000);
 *   cli_serve_ready_s / cli_serve_ready_10k_s: the same through `bin/deepcut.js serve` (the compiled dist/ when built), the command users run; the targets are on these. `_cpu_s`:
 *   the CPU time the serving process had used when it was ready (what an idle machine's wall time
 *   would be, near enough: the start is single-threaded).
 *
 * The world (default size, seed 5, `--clips N` audio clips, default 120) is generated, imported,
 * run and published once into `<tmp>/deepcut-bench-serve-start/` and reused; each start runs on a
 * copy of its home. `--root DIR` measures another checkout of deepcut (same world), e.g. the
 * commit before a change, for a before/after figure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult } from './bench.ts';
import { flag, median, numFlag } from './bench.ts';

const here = resolve(fileURLToPath(new URL('..', import.meta.url)));


/** Import `entry` in a fresh node (through tsx for .ts); wall and CPU seconds of the import itself. */
function importOnce(root: string, entry: string): { wall: number; cpu: number } {
  const url = pathToFileURL(join(root, entry)).href;
  const script = `const c0 = process.cpuUsage(); const t0 = performance.now(); await import(${JSON.stringify(url)}); const c = process.cpuUsage(c0); console.log(JSON.stringify({ wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 }));`;
  const args = [...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });
  if (r.status !== 0) throw new Error(`importing ${entry} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { wall: number; cpu: number };
}

/** serving_import_s and friends: the import time of the serving and server entries, src and dist. */
export function serveImportFigures(root: string, runs: number): Record<string, number> {
  const out: Record<string, number> = {};
  const entries: [string, string][] = [
    ['serving_import', 'src/serving/load.ts'],
    ['server_import', 'src/server/run.ts'],
  ];
  if (existsSync(join(root, 'dist', 'src', 'serving', 'load.js'))) entries.push(['serving_import_dist', 'dist/src/serving/load.js'], ['server_import_dist', 'dist/src/server/run.js']);
  for (const [name, entry] of entries) {
    const xs = Array.from({ length: runs }, () => importOnce(root, entry));
    out[`${name}_s`] = median(xs.map((x) => x.wall));
    out[`${name}_cpu_s`] = median(xs.map((x) => x.cpu));
  }
  return out;
}

/** The default demo world, served once: `<cache>/home` holds its store and published run. */
async function cachedWorld(clips: number): Promise<string> {
  const cache = join(tmpdir(), 'deepcut-bench-serve-start', `default-seed5-clips${clips}`);
  if (existsSync(join(cache, 'READY'))) return cache;
  rmSync(cache, { recursive: true, force: true });
  console.error(`bench serve-start: building the default demo world once in ${cache} (minutes)`);
  const { servedWorld } = await import('../src/server/testing/served-world.ts');
  const w = await servedWorld(cache, { size: 'default', seed: 5, audioClips: clips });
  await w.state.home?.close?.();
  await w.store.close();
  rmSync(join(cache, 'world'), { recursive: true, force: true });
  writeFileSync(join(cache, 'READY'), new Date().toISOString());
  return cache;
}

/** A copy of the world's home, optionally with `listens` listens stored after the run's latest one. */
async function homeCopy(world: string, listens: number): Promise<{ home: string; drop(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-bench-serve-start-home-'));
  const home = join(dir, 'home');
  cpSync(join(world, 'home'), home, { recursive: true });
  if (listens > 0) {
    const { openStore } = await import('../src/store/open.ts');
    const { openPublished } = await import('../src/pipeline/published.ts');
    const { Rng } = await import('../src/util/rng.ts');
    const run = await openPublished(home);
    const { lastListenAt, users, catalog } = run.snapshot;
    await run.close();
    const store = await openStore({ home });
    try {
      // half from 500 listeners new since the run, half from listeners it saw; tracks at random
      const rng = new Rng(5);
      const rows = Array.from({ length: listens }, (_, i) => ({
        listen_id: `bench-since-${i}`,
        user_id: i % 2 === 0 ? `bench-new-${(i / 2) % 500}` : users.id(rng.nextU32() % users.size),
        track_id: catalog.tracks[rng.nextU32() % catalog.tracks.length].id,
        started_at: new Date(lastListenAt + 1000 * (i + 1)).toISOString(),
        ms_played: 120_000,
        reason_end: 'trackdone' as const,
        skipped: false,
        context: 'bench',
        platform: 'bench',
      }));
      await store.bulkPut('listens', [rows]);
    } finally {
      await store.close();
    }
  }
  return { home, drop: () => rmSync(dir, { recursive: true, force: true }) };
}

interface Started {
  /** Seconds from spawn to the first 200 of /readyz. */
  ready: number;
  /** CPU seconds the serving process had used by then (Linux /proc; undefined elsewhere). */
  cpu?: number;
  /** folded_in from the "serving the published run" log line, when logged. */
  folded?: number;
}

/** User + system CPU seconds of process `pid` so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Spawn a serving process, wait for its URL on stdout and a 200 from /readyz, then stop it. */
async function startOnce(root: string, home: string, how: 'server' | 'cli'): Promise<Started> {
  const env = { ...process.env, DEEPCUT_HOME: home, DEEPCUT_LOG_LEVEL: 'info' };
  const server = `const { defaultConfig } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/config/config.ts')).href)});
const { runServer } = await import(${JSON.stringify(pathToFileURL(join(root, 'src/server/run.ts')).href)});
await runServer({ ...defaultConfig(), home: process.env.DEEPCUT_HOME }, { port: 0, host: '127.0.0.1', auth: false, onListening: (url) => console.log(JSON.stringify({ url })) });`;
  const args = how === 'server' ? ['--import', 'tsx', '--input-type=module', '-e', server] : [join(root, 'bin', 'deepcut.js'), '--home', home, '--json', 'serve', '--port', '0', '--no-auth'];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    let url: string | undefined;
    const deadline = Date.now() + 180_000;
    while (!url) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the server did not start: ${err.slice(-2000)}`);
      url = /\{"url":"([^"]+)"/.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 10));
    }
    for (;;) {
      const r = await fetch(`${url}/readyz`).catch(() => undefined);
      if (r?.status === 200) break;
      if (Date.now() > deadline) throw new Error('/readyz never answered 200');
      await new Promise((r) => setTimeout(r, 10));
    }
    const ready = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(child.pid);
    const line = err.split('\n').find((l) => l.includes('serving the published run'));
    const folded = line ? (JSON.parse(line) as { folded_in?: number }).folded_in : undefined;
    return { ready, ...(cpu !== undefined ? { cpu } : {}), ...(folded !== undefined ? { folded } : {}) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** serve_ready_s and friends: process start to ready on the default demo world. */
export async function serveReadyFigures(root: string, runs: number, clips: number): Promise<{ figures: Record<string, number>; notes: string[] }> {
  const world = await cachedWorld(clips);
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  const cases: { name: string; how: 'server' | 'cli'; listens: number }[] = [
    { name: 'serve_ready', how: 'server', listens: 0 },
    { name: 'serve_ready_10k', how: 'server', listens: 10_000 },
    { name: 'cli_serve_ready', how: 'cli', listens: 0 },
    { name: 'cli_serve_ready_10k', how: 'cli', listens: 10_000 },
  ];
  for (const c of cases) {
    const xs: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < runs; i++) {
      const h = await homeCopy(world, c.listens);
      try {
        const s = await startOnce(root, h.home, c.how);
        if (c.listens > 0 && s.folded !== c.listens) notes.push(`${c.name}: folded_in was ${s.folded ?? 'not logged'}, not ${c.listens} (a checkout without the start fold-in)`);
        xs.push(s.ready);
        if (s.cpu !== undefined) cpus.push(s.cpu);
      } finally {
        h.drop();
      }
    }
    figures[`${c.name}_s`] = median(xs);
    if (cpus.length) figures[`${c.name}_cpu_s`] = median(cpus);
  }
  return { figures, notes: [...new Set(notes)] };
}

/** The serving figures as one measurement of the serve-start bench (serve-start.bench.ts). */
export async function serveFigures(args: string[]): Promise<BenchResult> {
  const root = resolve(flag(args, 'root') ?? here);
  const runs = numFlag(args, 'runs', 3);
  const clips = numFlag(args, 'clips', 120);
  const imports = serveImportFigures(root, runs);
  const ready = await serveReadyFigures(root, runs, clips);
  return {
    figures: { ...imports, ...ready.figures, serve_runs: runs },
    // the targets are on what users run: the compiled package (`deepcut serve` through bin/deepcut.js)
    targets: { serving_import_dist_s: '<= 0.3', cli_serve_ready_s: '<= 2', cli_serve_ready_10k_s: '<= 2' },
    notes: [
      ...(root !== here ? [`serving figures measured on the checkout at ${root}`] : []),
      'serving figures: each the median of `runs` fresh processes; wall times on a shared 2-core machine vary with its load, CPU times less',
      ...ready.notes,
    ],
  };
}

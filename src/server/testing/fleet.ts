/**
 * A fleet on loopback for tests and the bench: a PostgreSQL schema of its own holding a world, a
 * home whose `runs/` every node shares (the filesystem artifact store = a shared mount), runs made
 * by the pipeline's first steps, and real `deepcut serve` processes (API nodes) started in process
 * groups of their own so that `stop()` ends each with its children, also when a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PostgresStore } from '../../store/postgres.ts';
import { pgSchema } from '../../store/testing/postgres.ts';
import type { Store } from '../../store/index.ts';
import { defaultConfig, type Config } from '../../config/config.ts';
import { runPipeline, publish, type Step } from '../../pipeline/index.ts';
import { validateStep, signalsStep, cfStep } from '../../pipeline/steps.ts';
import { FixedClock } from '../../core/clock.ts';

const bin = fileURLToPath(new URL('../../../bin/deepcut.js', import.meta.url));

/** The steps a serving test needs (snapshot and CF model), without text, audio or playlists. */
export const SERVING_STEPS: Step[] = [validateStep, signalsStep, cfStep];

export interface FleetWorld {
  databaseUrl: string;
  home: string;
  store: Store;
  config: Config;
  clock: FixedClock;
  /** Run the serving steps on what the store holds now; returns the run id. */
  run(): Promise<string>;
  /** Publish a run (gate forced): the store's row switches and every node hears of it. */
  publish(runId: string): Promise<void>;
  /** `run`, then `publish`; returns the run id. */
  runAndPublish(): Promise<string>;
  /** Stop every node started, close the store, drop the schema, remove the home. */
  cleanup(): Promise<void>;
  /** Start an API node; stopped by `cleanup` if not before. */
  node(env?: Record<string, string>): Promise<FleetNodeProcess>;
}

export interface FleetNodeProcess {
  proc: ChildProcess;
  url: string;
  /** stderr so far (its log). */
  log(): string;
  /** SIGTERM (or `signal`) to the node's process group; resolves with the exit code or signal. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/** A PostgreSQL schema filled by `seed`, a home for runs, and nodes on demand. */
export async function fleetWorld(seed: (store: Store) => Promise<void>, o: { cf?: Partial<Config['cf']> } = {}): Promise<FleetWorld> {
  const { databaseUrl, drop } = await pgSchema('deepcut_fleet');
  const home = await mkdtemp(join(tmpdir(), 'deepcut-fleet-'));
  const base = defaultConfig();
  const config: Config = { ...base, home, databaseUrl, cf: { ...base.cf, factors: 8, iterations: 4, threads: 1, ...o.cf } };
  const store = await PostgresStore.open({ home, databaseUrl });
  const clock = new FixedClock('2026-11-23T06:00:00Z');
  const nodes: FleetNodeProcess[] = [];
  try {
    await seed(store);
  } catch (e) {
    await store.close();
    await drop();
    throw e;
  }
  const world: FleetWorld = {
    databaseUrl,
    home,
    store,
    config,
    clock,
    async run() {
      clock.advance(60_000);
      return (await runPipeline(SERVING_STEPS, { config, store, clock })).runId;
    },
    async publish(runId) {
      await publish(SERVING_STEPS, home, runId, { tolerance: 1, force: true, clock, store });
    },
    async runAndPublish() {
      const runId = await world.run();
      await world.publish(runId);
      return runId;
    },
    async node(env = {}) {
      const n = await startNode(home, { DATABASE_URL: databaseUrl, DEEPCUT_LOG_LEVEL: 'info', DEEPCUT_FLEET_POLL_SECONDS: '2', ...env });
      nodes.push(n);
      return n;
    },
    async cleanup() {
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      await store.close();
      await drop().catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    },
  };
  return world;
}

/** Start `deepcut serve --no-auth --port 0` in its own process group; resolves with its URL once it listens. */
export function startNode(home: string, env: Record<string, string>): Promise<FleetNodeProcess> {
  const proc = spawn(process.execPath, [bin, '--home', home, '--json', 'serve', '--port', '0', '--no-auth'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: true });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | string | null>((res) => proc.once('exit', (code, sig) => res(code ?? sig)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode === null && proc.signalCode === null) {
      try {
        process.kill(-proc.pid!, signal);
      } catch {
        /* already gone */
      }
    }
    return exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ proc, url: (JSON.parse(line) as { url: string }).url, log: () => err, stop });
    });
    void exited.then((code) => reject(new Error(`node exited with ${code} before listening: ${err}`)));
  });
}

/** Poll `fn` every `everyMs` until it returns a value other than undefined, or throw after `ms`. */
export async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>, everyMs = 100): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

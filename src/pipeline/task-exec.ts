/**
 * Running one pipeline task, wherever it is taken: in the process that runs the pipeline (the
 * embedded mode's in-process queue) or in a `deepcut worker` on another machine (the fleet's
 * BullMQ queue). The task names its run, its step, the run's clock and the outputs of the steps
 * before it; its inputs are those steps' folders and its outputs its own folder, both through the
 * artifact store (`artifacts.url`):
 *
 *   fetch `<run>/<earlier step>/…` (and, for a step's join and between tasks, `<run>/<step>.shards/…`;
 *   for a part, the paths under it that it names) into
 *   `<home>/runs/<run>/`  →  run  →  push what it wrote: `<run>/<step>.shards/…` (a part) or
 *   `<run>/<step>/…` (the join; its shards are then removed from the store).
 *
 * When the artifact store is `<home>/runs` itself (the default, one machine) nothing is copied:
 * the task reads and writes the run folder in place, exactly as the one-process pipeline always
 * did. Every task is idempotent: its outputs depend only on its inputs and the run's clock (a
 * re-run writes the same bytes), and a folder appears under its final name only when complete.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/index.ts';
import { FixedClock, stampTime } from '../core/clock.ts';
import { DeepcutError } from '../errors.ts';
import { log as makeLog } from '../log.ts';
import { cpuSeconds } from '../util/cpu.ts';
import { artifactsUrl, isRunsFolder, openArtifactStore, sha256File, RUN_FILES, type ArtifactStore, type RunFiles } from '../artifacts/index.ts';
import type { Step, StepContext, StepOutput, StepPart } from './runner.ts';
import type { Task, TaskHandler } from './tasks.ts';
import { keepSnapshotsOf } from './persist.ts';

/** What every pipeline task carries: enough for any worker to run it with nothing but the store and the artifact store. */
export interface StepTaskPayload {
  runId: string;
  step: string;
  /** The run's clock (ISO): every task of a run sees the same "now", so a re-run writes the same bytes. */
  now: string;
  /** Outputs of the steps this one depends on (all finished). */
  outputs: Record<string, StepOutput>;
  /** Set for a part of the step; absent for the step's join task. */
  part?: StepPart;
  /** Set for the step's between task (src/pipeline/runner.ts `Step.between`). */
  between?: true;
}

/** The join task of a step (task id = the step's name). */
export function stepTask(p: Omit<StepTaskPayload, 'part'>): Task {
  return { id: p.step, kind: 'step', payload: { ...p } };
}

/** A part of a step (task id `<step>:<part id>`). */
export function partTask(p: Omit<StepTaskPayload, 'part'>, part: StepPart): Task {
  return { id: `${p.step}:${part.id}`, kind: 'part', payload: { ...p, part } };
}

/** The between task of a step (task id `<step>:between`). */
export function betweenTask(p: Omit<StepTaskPayload, 'part'>): Task {
  return { id: `${p.step}:between`, kind: 'between', payload: { ...p, between: true } };
}

/** What a task needs from the process that runs it. */
export interface TaskEnv {
  config: Config;
  store: Store;
  steps: readonly Step[];
}

/** The suffix of a step's parts folder: `<run>/<step>.shards/`. */
export const SHARDS = '.shards';

/**
 * The handler that runs pipeline tasks in this process (see the file comment). Errors are thrown
 * as they come: the queue retries them, except expected failures (tasks.ts `permanentCode`).
 */
export function stepTaskHandler(env: TaskEnv): TaskHandler {
  return (t: Task) => stampTime.run((t.payload as unknown as StepTaskPayload).now, () => runTask(env, t));
}

/**
 * Run one task; logs `task finished` with its wall and CPU seconds and the seconds spent moving
 * files through the artifact store (`io_s`), the figures a bench of task kinds reads. CPU is this
 * thread's own in a worker thread (util/cpu.ts), so shards run side by side are not counted twice.
 */
async function runTask(env: TaskEnv, t: Task): Promise<unknown> {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  const io = { s: 0 };
  const p = t.payload as unknown as StepTaskPayload;
  let ok = false;
  try {
    const r = await runTaskIn(env, t, io);
    ok = true;
    return r;
  } finally {
    makeLog('pipeline').info({ run: p.runId, task: t.id, kind: p.part ? `${p.step}:part` : p.between ? `${p.step}:between` : p.step, ok, seconds: (performance.now() - t0) / 1000, cpu_seconds: cpuSeconds() - c0, io_s: io.s }, 'task finished');
  }
}

async function runTaskIn(env: TaskEnv, t: Task, io: { s: number }): Promise<unknown> {
  const p = t.payload as unknown as StepTaskPayload;
  const step = env.steps.find((s) => s.name === p.step);
  if (!step) throw new DeepcutError('invalid_input', `task ${t.id} of run ${p.runId}: this deepcut has no step "${p.step}" (steps: ${env.steps.map((s) => s.name).join(', ')}); are the worker and the scheduler the same version?`);
  const runs = join(env.config.home, 'runs');
  const runDir = join(runs, p.runId);
  keepSnapshotsOf(runDir);
  const artifacts = await openArtifactStore(artifactsUrl(env.config));
  const sync = new RunSync(artifacts, runs, p.runId, io);
  await sync.pruneOtherRuns();
  const log = makeLog('pipeline').child({ run: p.runId, step: p.step, ...(p.part ? { part: p.part.id } : {}) });
  try {
    for (const s of Object.keys(p.outputs)) await sync.fetch(s);
    const dir = join(runDir, `${p.step}.partial`);
    const ctx: StepContext = { runId: p.runId, runDir, dir, dirOf: (s) => join(runDir, s), outputs: p.outputs, config: env.config, store: env.store, clock: new FixedClock(p.now), log };
    if (p.part) {
      if (!step.runPart) throw new DeepcutError('invalid_input', `task ${t.id}: step ${p.step} has no parts`);
      for (const rel of p.part.fetch ?? []) await sync.fetch(`${p.step}${SHARDS}/${rel}`);
      await mkdir(runDir, { recursive: true });
      const r = await step.runPart(ctx, p.part.payload);
      await sync.push(`${p.step}${SHARDS}`);
      return r ?? null;
    }
    if (p.between) {
      if (!step.between) throw new DeepcutError('invalid_input', `task ${t.id}: step ${p.step} has no between task`);
      await sync.fetch(`${p.step}${SHARDS}`);
      await mkdir(runDir, { recursive: true });
      const r = await step.between(ctx);
      await sync.push(`${p.step}${SHARDS}`);
      return r ?? null;
    }
    await sync.fetch(`${p.step}${SHARDS}`);
    const final = join(runDir, p.step);
    await rm(dir, { recursive: true, force: true });
    await rm(final, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const out = await step.run(ctx);
    // crash injection for the resume tests: die after the work, before the step is marked done
    if (process.env.DEEPCUT_CRASH_IN_STEP === p.step) process.kill(process.pid, 'SIGKILL');
    await rename(dir, final);
    await sync.push(p.step);
    await sync.remove(`${p.step}${SHARDS}`);
    return out;
  } finally {
    await artifacts.close();
  }
}

/** Keys this process has fetched or pushed, with their SHA-256: not checked again. */
const known = new Map<string, string>();

/**
 * A run's folders between this machine's `<home>/runs/<run>/` and the artifact store, under the
 * same relative paths. Every method does nothing when the store is that runs folder itself.
 */
class RunSync {
  private readonly inPlace: boolean;
  constructor(
    private readonly store: ArtifactStore,
    private readonly runs: string,
    private readonly runId: string,
    /** Seconds spent fetching and pushing, added up. */
    private readonly io: { s: number } = { s: 0 },
  ) {
    this.inPlace = isRunsFolder(store, runs);
  }

  private async timed(fn: () => Promise<void>): Promise<void> {
    const t0 = performance.now();
    try {
      await fn();
    } finally {
      this.io.s += (performance.now() - t0) / 1000;
    }
  }

  /** Bring `<run>/<rel>/` from the store (only files not here already with the same bytes); nothing there is not an error. */
  async fetch(rel: string): Promise<void> {
    if (!this.inPlace) await this.timed(() => this.fetchAll(rel));
  }

  private async fetchAll(rel: string): Promise<void> {
    for (const o of await this.store.list(`${this.runId}/${rel}/`)) {
      const sha = (await this.store.stat(o.key))?.sha256;
      const local = join(this.runs, ...o.key.split('/'));
      if (sha && known.get(local) === sha && existsSync(local)) continue;
      if (sha && existsSync(local) && (await sha256File(local)).sha256 === sha) {
        known.set(local, sha);
        continue;
      }
      await mkdir(dirname(local), { recursive: true });
      const tmp = `${local}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await pipeline(await this.store.get(o.key, sha ? { sha256: sha } : {}), createWriteStream(tmp));
        await rename(tmp, local);
      } finally {
        await rm(tmp, { force: true });
      }
      if (sha) known.set(local, sha);
    }
  }

  /** Put every file of `<run>/<rel>/` here into the store (skipping those it holds with the same bytes). */
  async push(rel: string): Promise<void> {
    if (!this.inPlace) await this.timed(() => this.pushAll(rel));
  }

  private async pushAll(rel: string): Promise<void> {
    for (const path of await files(join(this.runs, this.runId, rel))) {
      const local = join(this.runs, this.runId, rel, ...path.split('/'));
      const key = `${this.runId}/${rel}/${path}`;
      const { sha256 } = await sha256File(local);
      const have = await this.store.stat(key);
      if (have?.sha256 !== sha256) await this.store.put(key, { file: local, sha256 });
      known.set(local, sha256);
    }
  }

  /**
   * Remove this machine's copies of other runs' folders untouched for a day: a worker's copies
   * (no `run.json`: a run this machine coordinates is never removed). Nothing when in place.
   */
  async pruneOtherRuns(maxAgeMs = 24 * 3600_000): Promise<void> {
    if (this.inPlace || !existsSync(this.runs)) return;
    for (const name of await readdir(this.runs)) {
      const dir = join(this.runs, name);
      if (name === this.runId || existsSync(join(dir, 'run.json'))) continue;
      const st = await stat(dir).catch(() => undefined);
      if (st?.isDirectory() && Date.now() - st.mtimeMs > maxAgeMs) await rm(dir, { recursive: true, force: true });
    }
  }

  /** Remove `<run>/<rel>/` from the store (a step's shards once joined). */
  async remove(rel: string): Promise<void> {
    if (this.inPlace) return;
    for (const o of await this.store.list(`${this.runId}/${rel}/`)) await this.store.delete(o.key);
  }
}

/** Files under `dir` as `/`-separated relative paths, sorted; temporary files left out; none when it does not exist. */
async function files(dir: string, rel = ''): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(rel ? join(dir, rel) : dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name.endsWith('.tmp')) continue;
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await files(dir, p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/**
 * Finish a run whose tasks put their files in the store: the manifest (`manifestFile`) goes up as
 * `<run>/run.json`, then the run's file list — every object under `<run>/` but shards and
 * unfinished folders, with its size and SHA-256 — last, as {@link pushRun} does for a local folder.
 */
export async function sealStoredRun(store: ArtifactStore, runId: string, manifestFile: string): Promise<RunFiles> {
  await store.put(`${runId}/run.json`, { file: manifestFile });
  const out: RunFiles['files'] = [];
  for (const o of await store.list(`${runId}/`)) {
    const path = o.key.slice(runId.length + 1);
    const top = path.split('/')[0];
    if (path === RUN_FILES || top.endsWith(SHARDS) || top.endsWith('.partial')) continue;
    const sha256 = (await store.stat(o.key))?.sha256 ?? (await shaOf(store, o.key));
    out.push({ path, size: o.size, sha256 });
  }
  const list: RunFiles = { magic: 'deepcut-run-files', version: 1, runId, files: out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
  await store.put(`${runId}/${RUN_FILES}`, { bytes: Buffer.from(JSON.stringify(list, null, 1)) });
  return list;
}

/** SHA-256 of a stored object without a recorded one, read through. */
async function shaOf(store: ArtifactStore, key: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256');
  for await (const c of await store.get(key)) h.update(c as Buffer);
  return h.digest('hex');
}

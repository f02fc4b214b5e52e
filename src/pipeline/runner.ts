/**
 * The pipeline runner: steps as a DAG, each run versioned in its own folder
 * `<home>/runs/<runId>/` with a manifest (`run.json`), one sub-folder of artifacts per step, and
 * the metrics and timings of every step. A crashed run resumes without redoing finished steps: a
 * step writes into `<step>.partial/`, renamed to `<step>/` only when it succeeded, and the manifest
 * is rewritten atomically after every step. A succeeded run is put into the artifact store
 * (`artifacts.url`, src/artifacts/), its file list last; with the default store, `<home>/runs`
 * itself, nothing is copied. Serving reads only the published run: one row of the
 * store (`Store.getPublication`), switched in a transaction by {@link publish} after the promotion
 * gate, and by {@link rollback}. `<home>/runs/PUBLISHED.json` mirrors it after each switch, for
 * readers that hold no store (the CLI's playlist and similar commands while a server holds the
 * embedded store).
 */
import { mirrorRun, RUNS_META } from './run-mirror.ts';
export { RUNS_META };
import { mkdir, readFile, rename, rm, writeFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/index.ts';
import type { Clock } from '../core/clock.ts';
import { DeepcutError, isDeepcutError } from '../errors.ts';
import { log as makeLog, type Logger } from '../log.ts';
import { HEARTBEAT_MS, reapDeadRuns, runsHere, thisOwner, type RunOwner } from './liveness.ts';
import { artifactsUrl, isRunsFolder, openArtifactStore, pushRun, seedCache } from '../artifacts/index.ts';
import { InProcessQueue, DeadTasksError, type DeadTask, type Task, type TaskHandler, type TaskQueue } from './tasks.ts';
import { stepTaskHandler, stepTask, partTask, betweenTask, sealStoredRun, type StepTaskPayload } from './task-exec.ts';
import { TaskThreads } from './task-threads.ts';
import { forgetSnapshots } from './persist.ts';

/** What a finished step leaves for later steps and for the run's report. */
export interface StepOutput {
  /** Offline figures, e.g. `{ ndcg_at_10: 0.31 }`; gated ones are compared at publish. */
  metrics?: Record<string, number>;
  /** Anything small later steps need (counts, file names inside the step folder). */
  info?: Record<string, unknown>;
}

export interface StepContext {
  runId: string;
  /** The run folder. */
  runDir: string;
  /** This step's artifact folder (a `.partial` folder until the step succeeds). */
  dir: string;
  /** Artifact folder of an earlier, finished step. */
  dirOf(step: string): string;
  outputs: Readonly<Record<string, StepOutput>>;
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
}

/** One independent piece of a step (a batch of tracks, a shard of listeners): its id within the step and what it needs to know. */
export interface StepPart {
  id: string;
  payload: Record<string, unknown>;
  /**
   * Paths under `<run>/<step>.shards/` this part reads (a second-round part reads what the first
   * round and the between task wrote); fetched from the artifact store before it runs.
   */
  fetch?: string[];
}

/**
 * A step of the DAG. A step is one task ({@link Step.run}, on any worker) or, when it has
 * {@link Step.parts}, its parts first (independent tasks, any number of workers at once) and then
 * `run`, which joins what they wrote. Every task is idempotent: run again, it writes the same bytes.
 */
export interface Step {
  name: string;
  after: readonly string[];
  /** Higher-is-better metrics of a step that the promotion gate compares against the published run. */
  gated?: readonly string[];
  /**
   * The step's parts, planned from earlier steps' outputs alone (the process that plans holds no
   * run files). Each part writes under `<run>/<step>.shards/`.
   */
  parts?(outputs: Readonly<Record<string, StepOutput>>, config: Config): StepPart[];
  /** Run one part (a task); what it returns (JSON) is kept as the task's result. */
  runPart?(ctx: StepContext, part: Record<string, unknown>): Promise<unknown>;
  /**
   * A task between the parts and a second round of them (the audio CNN's training, between the
   * analysis batches and the inference batches): runs once every part is done or dead, reads and
   * writes `<run>/<step>.shards/`, and returns (JSON) what {@link Step.laterParts} plans from.
   */
  between?(ctx: StepContext): Promise<unknown>;
  /** The second round of parts (run by `runPart`, like the first), planned from what `between` returned; then the join. */
  laterParts?(between: unknown): StepPart[];
  /**
   * Parts that die (every attempt failed) do not fail the step: `run` joins without them, makes up
   * for them as it can and reports it; the run's dead letters name them, and the gate decides.
   */
  toleratesDeadParts?: boolean;
  /**
   * Its parts read and write run files only, never the store: a one-process run ({@link RunOptions.threads})
   * runs them on worker threads at once (src/pipeline/task-threads.ts).
   */
  partsInThreads?: boolean;
  run(ctx: StepContext): Promise<StepOutput>;
}

export type StepStatus = 'pending' | 'running' | 'done' | 'failed';

export interface StepRecord {
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  seconds?: number;
  output?: StepOutput;
  error?: string;
  /** Tasks of this step that failed every attempt, with their last errors. */
  deadLetters?: DeadTask[];
}

export interface RunManifest {
  magic: 'deepcut-run';
  version: 1;
  runId: string;
  createdAt: string;
  status: 'running' | 'failed' | 'succeeded';
  steps: Record<string, StepRecord>;
  order: string[];
  /** The process running it, with its heartbeat (liveness.ts); a dead owner's run is marked failed. */
  owner?: RunOwner;
  /** Why a failed run failed, when no step's error says it (its process died). */
  error?: string;
  /** Set when a gate stopped the run (a step failed with DeepcutError 'blocked', e.g. validation anomalies): the step and why. */
  blocked?: RunBlock;
  /** The run's time (ISO): the "now" of every task (weeks, windows, file stamps); `createdAt` when absent. */
  now?: string;
}

/** A run a gate stopped: the step, the gate's reason (e.g. the validation anomaly), when. */
export interface RunBlock {
  step: string;
  reason: string;
  at: string;
}

export interface PublishedPointer {
  runId: string;
  /** The store row's switch count (0: read from a home's PUBLISHED.json, before publication moved into the store). */
  generation?: number;
  publishedAt: string;
  /** Earlier published runs, newest first, for rollback. */
  history: { runId: string; publishedAt: string }[];
}

export const runsDir = (home: string) => join(home, 'runs');
const manifestPath = (home: string, runId: string) => join(runsDir(home), runId, 'run.json');
const publishedPath = (home: string) => join(runsDir(home), 'PUBLISHED.json');

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2));
  await rename(tmp, path);
}

/** Order steps so every step comes after the steps it names in `after`; names cycles and unknown deps. */
export function topoOrder(steps: readonly Step[]): string[] {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    const s = byName.get(name);
    if (!s) throw new Error(`pipeline: step "${path[path.length - 1]}" depends on unknown step "${name}"`);
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`pipeline: cycle ${[...path, name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const d of s.after) visit(d, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const s of steps) visit(s.name, []);
  return order;
}

/** A new run id: UTC time to the second plus a counter, sortable: `20261125T183000Z-1`. */
async function newRunId(home: string, clock: Clock): Promise<string> {
  const base = clock.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  let n = 1;
  while (existsSync(join(runsDir(home), `${base}-${n}`))) n++;
  return `${base}-${n}`;
}

export async function readManifest(home: string, runId: string): Promise<RunManifest> {
  const p = manifestPath(home, runId);
  if (!existsSync(p)) throw new DeepcutError('not_found', `no pipeline run ${runId} (looked for ${p})`);
  return JSON.parse(await readFile(p, 'utf8')) as RunManifest;
}

export async function listRuns(home: string): Promise<RunManifest[]> {
  const dir = runsDir(home);
  if (!existsSync(dir)) return [];
  const out: RunManifest[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (existsSync(manifestPath(home, name))) out.push(await readManifest(home, name));
  }
  return out;
}

/** The newest run's manifest (for a metrics scrape: one directory listing and one file read, off the event loop), undefined when there is none or it is being rewritten. */
export async function latestRun(home: string): Promise<RunManifest | undefined> {
  const dir = runsDir(home);
  if (!existsSync(dir)) return undefined;
  const ids = (await readdir(dir)).sort();
  for (let i = ids.length - 1; i >= 0; i--) {
    if (!existsSync(manifestPath(home, ids[i]))) continue;
    try {
      return await readManifest(home, ids[i]);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The mirror of the published run in `<home>/runs/PUBLISHED.json` (see the file comment); serving reads {@link currentPublication}. */
export async function readPublished(home: string): Promise<PublishedPointer | undefined> {
  const p = publishedPath(home);
  return existsSync(p) ? (JSON.parse(await readFile(p, 'utf8')) as PublishedPointer) : undefined;
}

/**
 * The published run: the store's publication row; for a home published before the row existed,
 * its PUBLISHED.json (generation 0), until the next switch writes the row.
 */
export async function currentPublication(store: Pick<Store, 'getPublication'>, home: string): Promise<PublishedPointer | undefined> {
  return (await store.getPublication()) ?? (await readPublished(home));
}

/** Switch the publication row from `current` to `next` (one transaction), then rewrite the mirror file. */
async function switchTo(store: Pick<Store, 'switchPublication'>, home: string, current: PublishedPointer | undefined, next: Omit<PublishedPointer, 'generation'>): Promise<PublishedPointer> {
  const row = await store.switchPublication({ runId: next.runId, publishedAt: next.publishedAt, history: next.history }, current?.generation ?? 0);
  if (!row) throw new DeepcutError('conflict', `the published run changed while switching to ${next.runId} (another publish or rollback committed first): check \`deepcut pipeline status\` and try again`);
  await mkdir(runsDir(home), { recursive: true });
  await writeJsonAtomic(publishedPath(home), row);
  return row;
}

export interface RunOptions {
  config: Config;
  store: Store;
  clock: Clock;
  /** Resume this run instead of starting a new one. */
  resume?: string;
  /** The new run's id (a scheduler names the day's run); default: the clock's time to the second and a counter. */
  runId?: string;
  /** The new run's time, the "now" every task sees (a scheduler's day run: its scheduled time); default the clock's now. */
  now?: Date;
  /** Resume a run another process was running without asking whether it is alive (a scheduler that took the lock over from a dead one). */
  takeover?: boolean;
  /** Called when a step starts and ends (progress reporting). */
  onStep?: (name: string, record: StepRecord) => void;
  /**
   * Where the tasks run: default this process, one at a time, 3 attempts each with doubling
   * backoff; a fleet passes its BullMQ queue, whose workers (`deepcut worker`) take them.
   */
  queue?: TaskQueue | ((runId: string) => TaskQueue);
  /** Steps whose inputs are ready that run at once (default 1: in DAG order, one after another). */
  parallelSteps?: number;
  /**
   * Worker threads that run the parts of a step with `partsInThreads` at once, when it has several
   * (src/pipeline/task-threads.ts). Default: `pipeline.threads` with the default queue, 1 (none)
   * with a given queue, whose concurrency must then match. A fleet's workers size with `--concurrency`.
   */
  threads?: number;
}

/**
 * Run (or resume) the pipeline. Finished steps of a resumed run are not redone. A failing step
 * marks the run failed and throws; the published run is untouched. Runs whose process died are
 * marked failed first ({@link reapDeadRuns}); resuming a run that is live elsewhere is a conflict.
 */
export async function runPipeline(steps: readonly Step[], opts: RunOptions): Promise<RunManifest> {
  const home = opts.config.home;
  const order = topoOrder(steps);
  let m: RunManifest;
  await reapDeadRuns(home);
  if (opts.resume) {
    m = existsSync(manifestPath(home, opts.resume)) || !opts.store ? await readManifest(home, opts.resume) : await manifestFromStore(opts.store, opts.resume);
    if (!opts.takeover && m.status === 'running' && m.owner && (m.owner.pid !== process.pid || m.owner.host !== thisOwner().host))
      throw new DeepcutError('conflict', `pipeline run ${m.runId} is running in process ${m.owner.pid} on ${m.owner.host} (last heartbeat ${m.owner.heartbeatAt}): wait for it, or stop that process and resume`);
    for (const name of order) m.steps[name] ??= { status: 'pending' };
    m.order = order;
  } else {
    const runId = opts.runId ?? (await newRunId(home, opts.clock));
    if (existsSync(manifestPath(home, runId))) throw new DeepcutError('conflict', `pipeline run ${runId} exists already: resume it with \`deepcut pipeline run --resume ${runId}\``);
    await mkdir(join(runsDir(home), runId), { recursive: true });
    m = { magic: 'deepcut-run', version: 1, runId, createdAt: opts.clock.now().toISOString(), now: (opts.now ?? opts.clock.now()).toISOString(), status: 'running', order, steps: Object.fromEntries(order.map((n) => [n, { status: 'pending' as StepStatus }])) };
  }
  m.status = 'running';
  delete m.blocked;
  m.owner = thisOwner();
  delete m.error;
  // one manifest write at a time: the heartbeat writes between the steps' writes
  let saving: Promise<void> = Promise.resolve();
  await mkdir(join(runsDir(home), m.runId), { recursive: true });
  // the folder first (the builder's working copy), then the store's mirror that every machine lists (run-list.ts)
  const save = () => (saving = saving.catch(() => undefined).then(() => writeJsonAtomic(manifestPath(home, m.runId), m)).then(() => mirrorRun(opts.store, m)));
  await save();
  const beat = setInterval(() => {
    m.owner = thisOwner();
    save().catch(() => undefined);
  }, HEARTBEAT_MS);
  beat.unref();
  runsHere.add(m.runId);
  let done: RunManifest;
  try {
    done = await runSteps(steps, m, save, opts);
  } finally {
    runsHere.delete(m.runId);
    clearInterval(beat);
    await saving.catch(() => undefined);
  }
  await storeRun(opts.config, done.runId, opts.queue !== undefined);
  return done;
}

/** A run's manifest as the store's mirror holds it (a run begun on another machine); DeepcutError('not_found') when there is none. */
export async function manifestFromStore(store: Pick<Store, 'getMeta'>, runId: string): Promise<RunManifest> {
  const m = await store.getMeta<RunManifest>(RUNS_META, runId);
  if (!m) throw new DeepcutError('not_found', `no pipeline run ${runId} (not in this home, nor in the store's ${RUNS_META})`);
  return m;
}

/** A run's dead letters: every step's tasks that failed every attempt, with the step named. */
export function deadLetters(m: RunManifest): (DeadTask & { step: string })[] {
  return m.order.flatMap((step) => (m.steps[step]?.deadLetters ?? []).map((d) => ({ step, ...d })));
}

/** A run's manifest: this home's `run.json`, else the copy a fleet keeps in the store. */
export async function findManifest(store: Partial<Pick<Store, 'getMeta'>>, home: string, runId: string): Promise<RunManifest> {
  if (existsSync(manifestPath(home, runId)) || !store.getMeta) return readManifest(home, runId);
  return manifestFromStore(store as Pick<Store, 'getMeta'>, runId);
}

/**
 * Put a finished run into the artifact store (`artifacts.url`), its file list last: with the
 * default store, `<home>/runs` itself, only the file list is written. A store that fails leaves the
 * run succeeded here but not readable by other nodes: resuming the run pushes it again.
 */
async function storeRun(config: Config, runId: string, elsewhere: boolean): Promise<void> {
  const url = artifactsUrl(config);
  const store = await openArtifactStore(url);
  try {
    const local = join(runsDir(config.home), runId);
    // tasks that ran elsewhere put their files in the store already: add the manifest and the file list
    if (elsewhere && !isRunsFolder(store, runsDir(config.home))) {
      const list = await sealStoredRun(store, runId, join(local, 'run.json'));
      makeLog('pipeline').info({ run: runId, artifacts: store.url, files: list.files.length, bytes: list.files.reduce((a, f) => a + f.size, 0) }, 'run stored');
      return;
    }
    const list = await pushRun(store, local, runId);
    // this machine reads the run back (an in-process retrain) from its cache without downloading it
    if (!isRunsFolder(store, runsDir(config.home))) await seedCache(list, local, join(config.home, 'cache'));
    makeLog('pipeline').info({ run: runId, artifacts: store.url, files: list.files.length, bytes: list.files.reduce((a, f) => a + f.size, 0) }, 'run stored');
  } catch (e) {
    throw new DeepcutError('unavailable', `pipeline run ${runId} succeeded but could not be stored in ${store.url}: ${(e as Error).message}. Resume with \`deepcut pipeline run --resume ${runId}\` to store it; the published run keeps serving.`, {}, { cause: e });
  } finally {
    await store.close();
  }
}

/** While a step runs, a `step running` log line this often (ms). */
const STEP_ALIVE_MS = 30_000;

/**
 * The steps of `m` not done yet, in DAG order, `opts.parallelSteps` at a time; `save` rewrites the
 * manifest. Each step is its parts (tasks, when it has any), its between task and second round of
 * parts (when it has them), then its join task, all on the queue; a step fails when its join task dies, or a part dies and the step does not tolerate it.
 */
async function runSteps(steps: readonly Step[], m: RunManifest, save: () => Promise<void>, opts: RunOptions): Promise<RunManifest> {
  const order = m.order;
  const byName = new Map(steps.map((s) => [s.name, s]));
  const log = makeLog('pipeline').child({ run: m.runId });
  const outputs: Record<string, StepOutput> = {};
  for (const name of order) if (m.steps[name].status === 'done') outputs[name] = m.steps[name].output ?? {};
  const threads = Math.max(1, opts.threads ?? (opts.queue ? 1 : opts.config.pipeline.threads));
  const onFailure = (t: Task, a: number, e: string) => log.warn({ task: t.id, attempt: a, err: e }, 'task failed');
  const queue = typeof opts.queue === 'function' ? opts.queue(m.runId) : (opts.queue ?? new InProcessQueue({ onFailure }));
  const handler: TaskHandler = stepTaskHandler({ config: opts.config, store: opts.store, steps });
  const base = { runId: m.runId, now: m.now ?? m.createdAt };

  const runStep = async (name: string): Promise<void> => {
    const rec = m.steps[name];
    const step = byName.get(name)!;
    Object.assign(rec, { status: 'running', startedAt: opts.clock.now().toISOString(), error: undefined, deadLetters: undefined });
    await save();
    opts.onStep?.(name, rec);
    const t0 = performance.now();
    // a long step says it is alive: a log line every 30 s (its tasks log as they finish; a bar on a terminal where a step draws one)
    const alive = setInterval(() => log.info({ step: name, seconds: Math.round((performance.now() - t0) / 1000) }, 'step running'), STEP_ALIVE_MS);
    alive.unref();
    try {
      const payload: Omit<StepTaskPayload, 'part'> = { ...base, step: name, outputs: pick(outputs, ancestors(byName, name)) };
      let dead: DeadTask[] = [];
      const runParts = async (parts: StepPart[]) => {
        if (!parts.length) return;
        // parts that need no store, several of them: on worker threads of this process, `threads` at once
        const pool = step.partsInThreads && threads > 1 && parts.length > 1 ? new TaskThreads(opts.config, threads) : undefined;
        // each thread loads the run's snapshot: this thread's copy (~600 MB of heap for 100,000 listeners) is read again when a later step asks
        if (pool) forgetSnapshots();
        const q = pool && !opts.queue ? new InProcessQueue({ concurrency: threads, onFailure }) : queue;
        const r = await q.run(parts.map((p) => partTask(payload, p)), pool?.handler() ?? handler).finally(() => pool?.close());
        dead = [...dead, ...r.dead];
        if (dead.length) rec.deadLetters = dead;
        if (r.dead.length && !step.toleratesDeadParts) throw new DeadTasksError(name, dead);
      };
      await runParts(step.parts?.(outputs, opts.config) ?? []);
      if (step.between) {
        const b = await queue.run([betweenTask(payload)], handler);
        if (b.dead.length) throw new StepTaskError(b.dead[0]);
        await runParts(step.laterParts?.(b.results[`${name}:between`]) ?? []);
      }
      const joined = await queue.run([stepTask(payload)], handler);
      if (joined.dead.length) throw new StepTaskError(joined.dead[0]);
      const out = (joined.results[name] ?? {}) as StepOutput;
      Object.assign(rec, { status: 'done', finishedAt: opts.clock.now().toISOString(), seconds: (performance.now() - t0) / 1000, output: out });
      outputs[name] = out;
      await save();
      opts.onStep?.(name, rec);
      log.info({ step: name, seconds: rec.seconds, metrics: out.metrics, dead_tasks: dead.length || undefined }, 'step done');
    } catch (e) {
      const cause = e instanceof StepTaskError ? (e.dead.cause ?? e) : e;
      Object.assign(rec, { status: 'failed', finishedAt: opts.clock.now().toISOString(), seconds: (performance.now() - t0) / 1000, error: cause instanceof Error ? cause.message : String(cause) });
      if (e instanceof StepTaskError) rec.deadLetters = [...(rec.deadLetters ?? []), stripCause(e.dead)];
      m.status = 'failed';
      if ((isDeepcutError(cause) && cause.code === 'blocked') || (e instanceof StepTaskError && e.dead.code === 'blocked')) m.blocked = { step: name, reason: rec.error!, at: rec.finishedAt! };
      await save();
      opts.onStep?.(name, rec);
      throw new DeepcutError('blocked', `pipeline run ${m.runId}: step ${name} failed: ${rec.error}. Fix the cause and resume with \`deepcut pipeline run --resume ${m.runId}\`; the published run keeps serving.`, {}, { cause });
    } finally {
      clearInterval(alive);
    }
  };

  const waiting = order.filter((n) => m.steps[n].status !== 'done');
  const running = new Map<string, Promise<void>>();
  let failure: unknown;
  const width = Math.max(1, opts.parallelSteps ?? 1);
  while (waiting.length || running.size) {
    if (failure === undefined) {
      for (const name of [...waiting]) {
        if (running.size >= width) break;
        if (!byName.get(name)!.after.every((d) => m.steps[d]?.status === 'done')) continue;
        waiting.splice(waiting.indexOf(name), 1);
        running.set(
          name,
          runStep(name).then(
            () => void running.delete(name),
            (e: unknown) => {
              running.delete(name);
              failure ??= e;
            },
          ),
        );
      }
    }
    if (!running.size) break;
    await Promise.race(running.values());
  }
  // a queue made for this run is closed with it
  if (typeof opts.queue === 'function') await (queue as Partial<{ close(): Promise<void> }>).close?.().catch(() => undefined);
  if (failure !== undefined) throw failure;
  m.status = 'succeeded';
  await save();
  return m;
}

/** A step's join task died: its dead letter (with the thrown error, in this process). */
class StepTaskError extends Error {
  constructor(readonly dead: DeadTask) {
    super(dead.error);
  }
}

const stripCause = ({ cause: _c, ...d }: DeadTask): DeadTask => d;

/** Every step `name` depends on, directly or not. */
function ancestors(byName: Map<string, Step>, name: string, out = new Set<string>()): Set<string> {
  for (const d of byName.get(name)?.after ?? []) {
    if (out.has(d)) continue;
    out.add(d);
    ancestors(byName, d, out);
  }
  return out;
}

const pick = (o: Record<string, StepOutput>, keys: Set<string>) => Object.fromEntries(Object.entries(o).filter(([k]) => keys.has(k)));

export type { Task };

/** The gated metrics of a run, keyed `step.metric`. */
export function gatedMetrics(steps: readonly Step[], m: RunManifest): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) {
    for (const g of s.gated ?? []) {
      const v = m.steps[s.name]?.output?.metrics?.[g];
      if (typeof v === 'number') out[`${s.name}.${g}`] = v;
    }
  }
  return out;
}

export interface GateResult {
  pass: boolean;
  /** One line per gated metric: candidate vs published. */
  checks: { metric: string; candidate: number; published: number | null; pass: boolean }[];
}

/**
 * The promotion gate: the candidate passes when no gated metric drops below
 * `published · (1 − tolerance)`. With nothing published yet, every metric passes.
 */
export function gate(candidate: Record<string, number>, published: Record<string, number> | undefined, tolerance: number): GateResult {
  const checks = Object.entries(candidate).map(([metric, c]) => {
    const p = published?.[metric];
    const pass = Number.isFinite(c) && (p === undefined || c >= p * (1 - tolerance));
    return { metric, candidate: c, published: p ?? null, pass };
  });
  return { pass: checks.every((c) => c.pass), checks };
}

/**
 * Publish a succeeded run after the gate (unless `force`): the store's publication row switched in
 * a transaction (API nodes hear of it, see docs/scale.md). Throws DeepcutError('blocked') naming
 * each regressed metric, 'conflict' when another switch committed between the gate and the switch.
 */
export async function publish(steps: readonly Step[], home: string, runId: string, opts: { tolerance: number; force?: boolean; clock: Clock; store: Pick<Store, 'getPublication' | 'switchPublication'> & Partial<Pick<Store, 'getMeta'>> }): Promise<GateResult> {
  const m = await findManifest(opts.store, home, runId);
  if (m.status !== 'succeeded') throw new DeepcutError('blocked', `run ${runId} is ${m.status}, only a succeeded run can be published`);
  const current = await currentPublication(opts.store, home);
  // the published run's manifest: this home's, or (a fleet, whose runs several schedulers made) the store's copy
  const before = current ? gatedMetrics(steps, await findManifest(opts.store, home, current.runId)) : undefined;
  const g = gate(gatedMetrics(steps, m), before, opts.tolerance);
  if (!g.pass && !opts.force) {
    const bad = g.checks.filter((c) => !c.pass).map((c) => `${c.metric} ${c.candidate.toFixed(4)} < published ${c.published?.toFixed(4)} − ${(opts.tolerance * 100).toFixed(1)}%`);
    throw new DeepcutError('blocked', `run ${runId} not published: metrics regressed: ${bad.join('; ')}`);
  }
  const history = current ? [{ runId: current.runId, publishedAt: current.publishedAt }, ...current.history].slice(0, 50) : [];
  await switchTo(opts.store, home, current, { runId, publishedAt: opts.clock.now().toISOString(), history });
  return g;
}

/** Switch back to the run published before the current one (one transaction, as {@link publish}). */
export async function rollback(home: string, clock: Clock, store: Pick<Store, 'getPublication' | 'switchPublication'>): Promise<PublishedPointer> {
  const current = await currentPublication(store, home);
  if (!current || current.history.length === 0) throw new DeepcutError('not_found', 'nothing to roll back to: no earlier published run');
  const [prev, ...rest] = current.history;
  return switchTo(store, home, current, { runId: prev.runId, publishedAt: clock.now().toISOString(), history: rest });
}

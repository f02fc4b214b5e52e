/**
 * The playlists step: Discover Weekly for each user's current week (Monday in their time zone),
 * Release Radar for their latest Friday, and Daily Mixes. A week's Discover Weekly and Release
 * Radar are made once and kept in the playlist archive (`<home>/playlists/<kind>/<date>.jsonl`):
 * stable for the week across daily retrains, past weeks kept.
 */
import { join } from 'node:path';
import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { InProcessQueue, assertNoDeadTasks, type Task, type TaskQueue } from './tasks.ts';
import { once } from 'node:events';
import type { StepContext } from './runner.ts';
import type { Snapshot } from './snapshot.ts';
import type { Recommender } from '../cf/index.ts';
import { isFactorized } from '../cf/index.ts';
import { openPlaylistArchive } from '../serving/index.ts';
import { Product, toPlaylist, weeklyKey, playlistTitles, rowSearch, archiveBucket, type CandidateSource, type FlowFeatures } from '../playlists/index.ts';
import { Scorer } from '../cf/index.ts';
import { wasmAvailable } from '../cf/index.ts';
import { yielder } from '../util/yield.ts';
import { DeepcutError, isDeepcutError } from '../errors.ts';
import { progress } from '../util/progress.ts';
import { cpuSeconds } from '../util/cpu.ts';
import { threadId } from 'node:worker_threads';
import { textPlaylistInputs } from './text-step.ts';
import { audioPlaylistInputs } from './audio-step.ts';

export interface PlaylistsSummary {
  counts: Record<string, number>;
  metrics: Record<string, number>;
}

/** Extra sources and flow features that later stages (text, audio) contribute. */
export interface PlaylistInputs {
  sources?: CandidateSource[];
  flow?: (track: number) => FlowFeatures | undefined;
}

/**
 * The product over a run's snapshot and model with the run's extra inputs (text and audio
 * sources, flow): the pipeline, the CLI and the API build it this way for the same run.
 * Daily Mixes use the SIMD scorer when the kernels are built (same ranking as the plain search).
 */
export function runProduct(s: Snapshot, model: Recommender, extra: PlaylistInputs, seed: number): Product {
  const scorer = isFactorized(model) && model.factors % 4 === 0 && wasmAvailable() ? new Scorer(model.itemFactors(), model.itemFactors().length / model.factors, model.factors) : undefined;
  const nearest = scorer
    ? (q: Float32Array, k: number) => {
        const r = scorer.top(q, k, [], false);
        return Array.from(r.items, (track, i) => ({ track, score: r.scores[i] }));
      }
    : undefined;
  return new Product({ world: s, model, sources: extra.sources, flow: extra.flow, seed, nearest });
}

/**
 * The extra playlist inputs a run's folder holds: the text step's source and the audio step's
 * source and flow features (`<run>/text`, `<run>/audio`), as the playlists step reads them. A run
 * made without the text step (no `text.json`) contributes no text source.
 */
export async function runPlaylistInputs(textDir: string, audioDir: string, s: Snapshot, model: Recommender): Promise<PlaylistInputs> {
  const noText = (e: unknown): Promise<PlaylistInputs> | PlaylistInputs => (isDeepcutError(e) && e.code === 'not_found' ? {} : Promise.reject(e));
  const text = await textPlaylistInputs(textDir, s, model).catch(noText);
  const audio = await audioPlaylistInputs(audioDir, s, model);
  return { sources: [...(text.sources ?? []), ...(audio.sources ?? [])], flow: audio.flow };
}

/**
 * The product over a finished run's folder (the published run, for the CLI and the API): its
 * snapshot and model with the text and audio inputs stored in `<run>/text` and `<run>/audio`, as
 * the run's playlists step had them. A run made without the text step contributes no text source.
 */
export async function productOfRun(run: { dir: string; snapshot: Snapshot; model: Recommender }, seed: number): Promise<Product> {
  return runProduct(run.snapshot, run.model, await runPlaylistInputs(join(run.dir, 'text'), join(run.dir, 'audio'), run.snapshot, run.model), seed);
}

/** One slice of the listeners: shard `index` of `count` (0-based), by user row. */
export interface PlaylistShard {
  index: number;
  count: number;
}

/**
 * The user rows of a shard: contiguous slices, so shard outputs concatenated in shard order are
 * the one-shard output byte for byte, whatever the count.
 * @example shardRows(10, { index: 1, count: 3 }) // [3, 6]
 */
export function shardRows(users: number, shard: PlaylistShard): [number, number] {
  if (!(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count))
    throw new DeepcutError('invalid_input', `bad playlists shard ${shard.index} of ${shard.count}`);
  return [Math.floor((shard.index * users) / shard.count), Math.floor(((shard.index + 1) * users) / shard.count)];
}

/** Listeners per shard when the step picks the count itself: the default of `pipeline.usersPerShard`. */
export const USERS_PER_SHARD = 10_000;

/** The shard count for `users` listeners: one per `perShard` (default {@link USERS_PER_SHARD}), at least one. */
export function shardCount(users: number, perShard = USERS_PER_SHARD): number {
  return Math.max(1, Math.ceil(users / perShard));
}

const FILES = { dw: 'discover-weekly.jsonl', rr: 'release-radar.jsonl', mix: 'daily-mixes.jsonl' } as const;

/**
 * The shape of a shard's folder: 2, the weekly lists it made new are also written by archive day
 * and bucket (`archive/<kind>/<date>/<bucket>.jsonl`), so the join writes them to the archive
 * without reading the shard's files (1 listed their line numbers). A shard of another layout is
 * made again.
 */
const SHARD_LAYOUT = 2;

/** What a shard leaves beside its files: integer tallies (summed exactly by the merge). */
export interface ShardSummary {
  layout: typeof SHARD_LAYOUT;
  shard: PlaylistShard;
  users: number;
  counts: { discover_weekly_new: number; discover_weekly_kept: number; release_radar: number; daily_mixes: number };
  tallies: { dwTracks: number; dwTail: number; dwNewArtist: number; dwArtists: number };
  seconds: number;
  /** CPU seconds while the shard ran: of its worker thread, or of the process in the main thread (src/util/cpu.ts). */
  cpuSeconds: number;
}

/** Buffered line writer that waits for the disk (a shard's files hold hundreds of MB); `chunk`: characters held before a write. */
class Lines {
  private buf: string[] = [];
  private size = 0;
  private readonly out: WriteStream;
  constructor(
    path: string,
    private readonly chunk = 1 << 20,
  ) {
    this.out = createWriteStream(path);
  }
  async push(line: string): Promise<void> {
    this.buf.push(line);
    this.size += line.length;
    if (this.size > this.chunk) await this.flush();
  }
  private async flush(): Promise<void> {
    if (!this.buf.length) return;
    const chunk = this.buf.join('\n') + '\n';
    this.buf = [];
    this.size = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }
  async end(): Promise<void> {
    await this.flush();
    await new Promise<void>((res, rej) => this.out.end((e?: Error | null) => (e ? rej(e) : res())));
  }
}

/**
 * The folder of shard `i` of `n` of a playlists step writing into `stepDir`: beside it
 * (`<run>/playlists.shards/<n>/<i>`), so a finished shard survives a crash of the step and a
 * resumed run does not make it again.
 */
export const shardsRoot = (stepDir: string) => `${stepDir.replace(/\.partial$/, '')}.shards`;
export const shardDir = (stepDir: string, shard: PlaylistShard) => join(shardsRoot(stepDir), `${shard.count}`, `${shard.index}`);
/** Whether a shard is finished (its summary written last), in this version's layout. */
async function shardDone(stepDir: string, shard: PlaylistShard): Promise<boolean> {
  const p = join(shardDir(stepDir, shard), 'summary.json');
  return existsSync(p) && (JSON.parse(await readFile(p, 'utf8')) as Partial<ShardSummary>).layout === SHARD_LAYOUT;
}

/**
 * A shard's weekly lists made new by this run, by archive day and bucket
 * (`<shard>/archive/<kind>/<date>/<bucket>.jsonl`, listeners in row order): what the join puts in
 * the archive (see {@link PlaylistArchive.putLines}).
 */
class FreshLists {
  private readonly files = new Map<string, Lines>();
  constructor(private readonly dir: string) {}
  async push(kind: 'discover-weekly' | 'release-radar', date: string, user: string, line: string): Promise<void> {
    const rel = join(kind, date, `${archiveBucket(user)}.jsonl`);
    let f = this.files.get(rel);
    if (!f) {
      await mkdir(join(this.dir, kind, date), { recursive: true });
      // up to 2 kinds × a few dates × 16 buckets open at once: small chunks
      this.files.set(rel, (f = new Lines(join(this.dir, rel), 1 << 16)));
    }
    await f.push(line);
  }
  async end(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.end()));
  }
}

/**
 * The index-backed product the playlists step uses (CF candidates and Daily Mix neighbours from an
 * index over the item factors, not a scan of every track per listener).
 */
export function stepProduct(s: Snapshot, model: Recommender, extra: PlaylistInputs, seed: number): Product {
  const search = isFactorized(model) ? rowSearch(model.itemFactors(), model.factors, undefined, seed) : undefined;
  return new Product({ world: s, model, sources: extra.sources, flow: extra.flow, seed, search });
}

/**
 * Playlists for shard `shard` of the listeners: Discover Weekly (kept from the archive when this
 * week's exists), Release Radar and Daily Mixes, written to {@link shardDir} with a
 * `summary.json`; the archive is only read here ({@link mergePlaylistShards} writes it). A task:
 * the same inputs give the same bytes, so a re-run after a crash overwrites with the same files.
 */
export async function makePlaylistsShard(ctx: StepContext, s: Snapshot, product: Product, shard: PlaylistShard, onUser: () => void = () => undefined): Promise<ShardSummary> {
  const t0 = performance.now();
  const cpu0 = cpuSeconds();
  const { catalog } = s;
  const now = ctx.clock.now();
  const createdAt = now.toISOString();
  const dir = shardDir(ctx.dir, shard);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const files = { dw: new Lines(join(dir, FILES.dw)), rr: new Lines(join(dir, FILES.rr)), mix: new Lines(join(dir, FILES.mix)) };
  const archive = await openPlaylistArchive(ctx.config);
  const counts = { discover_weekly_new: 0, discover_weekly_kept: 0, release_radar: 0, daily_mixes: 0 };
  const tallies = { dwTracks: 0, dwTail: 0, dwNewArtist: 0, dwArtists: 0 };
  const fresh = new FreshLists(join(dir, 'archive'));
  const { head, artistPlays } = playStats(catalog);
  const [from, to] = shardRows(s.histories.length, shard);
  const tick = yielder(); // a server in this process (the in-process retrain) keeps answering
  const keys = new Map<string, [string, string]>(); // the week keys of each time zone (one clock for the run)
  for (let u = from; u < to; u++) {
    const user = s.histories[u];
    await tick();
    let key = keys.get(user.timeZone);
    if (!key) keys.set(user.timeZone, (key = [weeklyKey('discover-weekly', now, user.timeZone), weeklyKey('release-radar', now, user.timeZone)]));
    const [week, friday] = key;
    let dw = await archive.get('discover-weekly', week, user.id);
    if (!dw) {
      dw = toPlaylist('discover-weekly', playlistTitles['discover-weekly'], user.id, week, product.discoverWeekly(user), catalog, ctx.runId, createdAt);
      const line = JSON.stringify(dw);
      await fresh.push('discover-weekly', week, user.id, line);
      await files.dw.push(line);
      counts.discover_weekly_new++;
    } else {
      counts.discover_weekly_kept++;
      await files.dw.push(JSON.stringify(dw));
    }
    const artistsSeen = new Set<number>();
    for (const t of dw.tracks) {
      const r = catalog.trackRows.row(t.trackId);
      if (r < 0) continue;
      tallies.dwTracks++;
      if (!head.has(r)) tallies.dwTail++;
      if (catalog.tracks[r].artists.every((a) => artistPlays[a] === 0)) tallies.dwNewArtist++;
      catalog.tracks[r].artists.forEach((a) => artistsSeen.add(a));
    }
    tallies.dwArtists += artistsSeen.size;

    let rr = await archive.get('release-radar', friday, user.id);
    if (!rr) {
      rr = toPlaylist('release-radar', playlistTitles['release-radar'], user.id, friday, product.releaseRadar(user, friday), catalog, ctx.runId, createdAt);
      const line = JSON.stringify(rr);
      await fresh.push('release-radar', friday, user.id, line);
      await files.rr.push(line);
    } else await files.rr.push(JSON.stringify(rr));
    if (rr.tracks.length) counts.release_radar++;

    const mixes = product.dailyMixes(user);
    counts.daily_mixes += mixes.length;
    for (let i = 0; i < mixes.length; i++) await files.mix.push(JSON.stringify(toPlaylist('daily-mix', mixes[i].title, user.id, `${createdAt.slice(0, 10)}/${i + 1}`, mixes[i].tracks, catalog, ctx.runId, createdAt)));
    onUser();
  }
  await Promise.all([...Object.values(files).map((f) => f.end()), fresh.end()]);
  await archive.close();
  const summary: ShardSummary = { layout: SHARD_LAYOUT, shard, users: to - from, counts, tallies, seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSeconds() - cpu0 };
  // the summary last and atomically: its presence means the shard is finished
  await writeFile(join(dir, 'summary.json.tmp'), JSON.stringify(summary));
  await rename(join(dir, 'summary.json.tmp'), join(dir, 'summary.json'));
  return summary;
}

/** head = most played tracks holding 80% of streams (the rest is the long tail); streams per artist. */
function playStats(catalog: Snapshot['catalog']): { head: Set<number>; artistPlays: Float64Array } {
  const byPlays = catalog.tracks.map((t, i) => [i, t.plays] as const).sort((a, b) => b[1] - a[1]);
  const total = byPlays.reduce((a, [, p]) => a + p, 0);
  const head = new Set<number>();
  let acc = 0;
  for (const [i, p] of byPlays) {
    if (acc >= 0.8 * total || p === 0) break;
    head.add(i);
    acc += p;
  }
  const artistPlays = new Float64Array(catalog.artists.length);
  catalog.tracks.forEach((t) => t.artists.forEach((a) => (artistPlays[a] += t.plays)));
  return { head, artistPlays };
}

/**
 * Join the `count` shards of a playlists step folder: their files concatenated in shard order into
 * the step's files (the same bytes as one shard), the weekly lists they made put in the archive
 * (their lines by archive day and bucket, concatenated and written as they are: no list is parsed),
 * their tallies summed into the step's summary; the shard folders are removed.
 */
export async function mergePlaylistShards(ctx: StepContext, count: number, users: number): Promise<PlaylistsSummary> {
  const shards: ShardSummary[] = [];
  for (let index = 0; index < count; index++) {
    const p = join(shardDir(ctx.dir, { index, count }), 'summary.json');
    if (!existsSync(p)) throw new DeepcutError('not_found', `playlists shard ${index} of ${count} has no summary (${p}): it has not finished`);
    const summary = JSON.parse(await readFile(p, 'utf8')) as ShardSummary;
    if (summary.layout !== SHARD_LAYOUT) throw new DeepcutError('invalid_input', `playlists shard ${index} of ${count} (${p}) is of layout ${summary.layout ?? 1}, this deepcut joins ${SHARD_LAYOUT}: run the step again`);
    shards.push(summary);
  }
  for (const name of Object.values(FILES)) {
    const out = createWriteStream(join(ctx.dir, name));
    for (const sh of shards) for await (const chunk of createReadStream(join(shardDir(ctx.dir, sh.shard), name), { highWaterMark: 1 << 20 })) if (!out.write(chunk)) await once(out, 'drain');
    await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  }
  // the run's new weekly lists, one object per week and listener bucket, named by the run (a re-merge writes the same keys)
  const archive = await openPlaylistArchive(ctx.config, { writer: ctx.runId });
  for (const kind of ['discover-weekly', 'release-radar'] as const) {
    const byBucket = new Map<string, string[]>(); // `<date>/<bucket>.jsonl` → the shards' files, in shard order
    for (const sh of shards) {
      const root = join(shardDir(ctx.dir, sh.shard), 'archive', kind);
      if (!existsSync(root)) continue;
      for (const date of await readdir(root)) for (const f of await readdir(join(root, date))) byBucket.set(`${date}/${f}`, [...(byBucket.get(`${date}/${f}`) ?? []), join(root, date, f)]);
    }
    for (const [rel, files] of [...byBucket].sort((x, y) => (x[0] < y[0] ? -1 : 1))) await archive.putLines(kind, rel.slice(0, 10), Buffer.concat(await Promise.all(files.map((f) => readFile(f)))));
  }
  await archive.close();
  await rm(shardsRoot(ctx.dir), { recursive: true, force: true });
  const sum = <K extends string>(pick: (s: ShardSummary) => Record<K, number>, k: K) => shards.reduce((a, s) => a + pick(s)[k], 0);
  const counts = { discover_weekly_new: sum((s) => s.counts, 'discover_weekly_new'), discover_weekly_kept: sum((s) => s.counts, 'discover_weekly_kept'), release_radar: sum((s) => s.counts, 'release_radar'), daily_mixes: sum((s) => s.counts, 'daily_mixes') };
  const t = { dwTracks: sum((s) => s.tallies, 'dwTracks'), dwTail: sum((s) => s.tallies, 'dwTail'), dwNewArtist: sum((s) => s.tallies, 'dwNewArtist'), dwArtists: sum((s) => s.tallies, 'dwArtists') };
  return {
    counts,
    metrics: {
      discover_weekly_long_tail_share: t.dwTracks ? t.dwTail / t.dwTracks : 0,
      discover_weekly_new_artist_share: t.dwTracks ? t.dwNewArtist / t.dwTracks : 0,
      discover_weekly_artists_per_playlist: users ? t.dwArtists / users : 0,
      discover_weekly_mean_length: users ? t.dwTracks / users : 0,
    },
  };
}

/** The tasks of a playlists step cut in `count` shards: `playlists:<i>-of-<n>`. */
export function playlistTasks(count: number): Task[] {
  return Array.from({ length: count }, (_, index) => ({ id: `playlists:${index}-of-${count}`, kind: 'playlists', payload: { index, count } }));
}

/** What a playlists shard task loads of its run: the snapshot, model and extra inputs. */
export type ShardLoader = (ctx: StepContext) => Promise<{ s: Snapshot; model: Recommender; extra: PlaylistInputs }>;

/** The inputs a playlists shard task needs, made once per run in a process (a worker takes many shards of a run). */
interface ShardInputs {
  runDir: string;
  s: Snapshot;
  model: Recommender;
  product: Product;
  /** Progress over every listener of the run this process makes lists for: a bar on a terminal. */
  bar: ReturnType<typeof progress>;
}
let shardInputs: Promise<ShardInputs> | undefined;
let shardInputsOf = '';

/** The snapshot, CF model and index-backed product of the run `ctx` belongs to, built at the first shard of the run this process takes. */
async function inputsFor(ctx: StepContext, load: ShardLoader): Promise<ShardInputs> {
  if (!shardInputs || shardInputsOf !== ctx.runDir) {
    const previous = shardInputs;
    shardInputsOf = ctx.runDir;
    shardInputs = (async () => {
      await previous
        ?.then((p) => {
          p.bar.done();
          return (p.model as Partial<{ close(): Promise<void> }>).close?.();
        })
        .catch(() => undefined);
      const { s, model, extra } = await load(ctx);
      return { runDir: ctx.runDir, s, model, product: stepProduct(s, model, extra, ctx.config.cf.seed), bar: progress('playlists', s.histories.length) };
    })();
    shardInputs.catch(() => (shardInputs = undefined));
  }
  return shardInputs;
}

/** Release the inputs kept for the run of `ctx` (after its merge). */
async function dropInputs(ctx: StepContext): Promise<void> {
  if (shardInputsOf !== ctx.runDir || !shardInputs) return;
  const p = shardInputs;
  shardInputs = undefined;
  shardInputsOf = '';
  await p
    .then((x) => {
      x.bar.done();
      return (x.model as Partial<{ close(): Promise<void> }>).close?.();
    })
    .catch(() => undefined);
}

/** The shard count of a run: one per `perShard` listeners (`pipeline.usersPerShard`) of the signals step's `users`. */
export function runShardCount(outputs: Readonly<Record<string, { metrics?: Record<string, number> }>>, perShard = USERS_PER_SHARD): number {
  return shardCount(outputs.signals?.metrics?.users ?? 0, perShard);
}

/**
 * Playlists for one shard as a task of the step (any worker): kept when an earlier attempt
 * finished it, else made from the run's inputs (loaded once per run in this process by `load`).
 */
export async function playlistsShardTask(ctx: StepContext, shard: PlaylistShard, load: ShardLoader): Promise<ShardTaskResult> {
  if (await shardDone(ctx.dir, shard)) return { users: 0, seconds: 0, cpu_seconds: 0, thread: threadId, kept: true };
  const { s, product, bar } = await inputsFor(ctx, load);
  const r = await makePlaylistsShard(ctx, s, product, shard, () => bar.tick());
  ctx.log.info({ shard: shard.index, shards: shard.count, users: r.users, seconds: r.seconds, cpu_seconds: r.cpuSeconds, thread: threadId, ms_per_listener: r.users ? (1000 * r.seconds) / r.users : 0, cpu_ms_per_listener: r.users ? (1000 * r.cpuSeconds) / r.users : 0 }, `playlists shard ${shard.index + 1}/${shard.count} done`);
  return { users: r.users, seconds: r.seconds, cpu_seconds: r.cpuSeconds, thread: threadId, kept: false };
}

/** What a playlists shard task returns (its task result): listeners, wall and CPU seconds, the worker thread (0: the main thread), and whether an earlier attempt had made it. */
export interface ShardTaskResult {
  users: number;
  seconds: number;
  cpu_seconds: number;
  thread: number;
  kept: boolean;
}

/** The playlists step's join: the shards merged (see {@link mergePlaylistShards}); the inputs kept for the run released. */
export async function joinPlaylistShards(ctx: StepContext, count: number, users: number): Promise<PlaylistsSummary> {
  try {
    return await mergePlaylistShards(ctx, count, users);
  } finally {
    await dropInputs(ctx);
  }
}

/**
 * The playlists step: one task per shard ({@link shardCount} of them unless `shards` says) on
 * `queue` (default: this process, one at a time, 3 attempts), shards finished by an earlier
 * attempt of the run kept, then the merge. A dead shard fails the step, naming it. Progress: a bar
 * on a terminal, a log line per shard.
 */
export async function makePlaylists(ctx: StepContext, s: Snapshot, model: Recommender, extra: PlaylistInputs = {}, shards = shardCount(s.histories.length), queue: TaskQueue = new InProcessQueue({ onFailure: (t, a, e) => ctx.log.warn({ task: t.id, attempt: a, err: e }, 'playlists task failed') })): Promise<PlaylistsSummary> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const product = stepProduct(s, model, extra, ctx.config.cf.seed);
  const indexS = (performance.now() - t0) / 1000;
  const indexCpu = process.cpuUsage(c0);
  const users = s.histories.length;
  const bar = progress('playlists', users);
  try {
    const report = await queue.run(playlistTasks(shards), async (t) => {
      const shard = t.payload as unknown as PlaylistShard;
      if (await shardDone(ctx.dir, shard)) return bar.tick(shardRows(users, shard)[1] - shardRows(users, shard)[0]);
      const r = await makePlaylistsShard(ctx, s, product, shard, () => bar.tick());
      ctx.log.info({ shard: shard.index, shards, users: r.users, seconds: r.seconds, cpu_seconds: r.cpuSeconds, ms_per_listener: r.users ? (1000 * r.seconds) / r.users : 0, cpu_ms_per_listener: r.users ? (1000 * r.cpuSeconds) / r.users : 0 }, `playlists shard ${shard.index + 1}/${shards} done`);
    });
    assertNoDeadTasks('playlists', report);
  } finally {
    bar.done();
  }
  const r = await mergePlaylistShards(ctx, shards, users);
  const seconds = (performance.now() - t0) / 1000;
  ctx.log.info({ users, shards, seconds, index_s: indexS, index_cpu_s: (indexCpu.user + indexCpu.system) / 1e6, ms_per_listener: users ? (1000 * seconds) / users : 0 }, 'playlists made');
  return r;
}

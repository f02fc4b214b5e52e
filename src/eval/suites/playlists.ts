/**
 * `playlists-demo`: the whole product on a generated demo world with known taste. Generates a
 * seeded world, imports it through the same validation as real data, runs the default pipeline
 * with the clock at the world's clock, and scores each listener's Discover Weekly against the
 * held-out week (truth/future_listens.jsonl, which no model reads): a hit is a DW track the
 * listener went on to stream (not skip) although they had never heard it before.
 *
 * Side by side with the same rules (30 tracks, never heard): popularity (most streamed unheard
 * tracks), random (seeded), and the oracle (the generator's own taste model, the upper bound).
 * Also the long-tail share (tracks of artists outside the top 20 % by streams), the share of new
 * and underrated artists (truth), and artist diversity (distinct artists per list).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalReport, EvalSuite } from '../suite.ts';
import { generateWorld, DEFAULT_CLOCK, type WorldSize } from '../../generate/index.ts';
import { readJsonl } from '../../generate/index.ts';
import { TasteModel, type UserTaste } from '../../generate/index.ts';
import type { ArtistTruth, TrackTruth } from '../../generate/index.ts';
import type { Listen } from '../../domain/schemas.ts';
import type { Playlist } from '../../playlists/index.ts';
import { importPath } from '../../ingest/index.ts';
import { openStore } from '../../store/index.ts';
import { defaultConfig } from '../../config/config.ts';
import { runPipeline } from '../../pipeline/index.ts';
import { defaultSteps } from '../../pipeline/steps.ts';
import { FixedClock } from '../../core/clock.ts';
import { Rng } from '../../util/rng.ts';
import { defaultConfidence, listenSignal, STREAM } from '../../signals/index.ts';
import { topK } from '../../core/topk.ts';

const LIST = 30;

/** Figures of one way of making 30-track lists, over the users that have held-out positives. */
interface ListFigures {
  hit_rate: number;
  precision: number;
  long_tail_share: number;
  new_artist_share: number;
  underrated_share: number;
  artists_per_list: number;
}

export interface PlaylistScoreInput {
  tracks: TrackTruth[];
  artists: ArtistTruth[];
  /** Track rows each user heard before the clock. */
  heard: Map<string, Set<number>>;
  /** Track rows each user streamed (not skipped) in the held-out week and had never heard. */
  positives: Map<string, Set<number>>;
  /** Streams per track before the clock. */
  plays: Float64Array;
}

/** Hit rate, precision, long-tail / new / underrated shares and artist diversity of lists. */
export function scoreLists(lists: Map<string, number[]>, x: PlaylistScoreInput): ListFigures & { users: number } {
  const artistRow = new Map(x.artists.map((a, i) => [a.artist_id, i]));
  // long tail: artists outside the top 20 % by streams
  const artistPlays = new Float64Array(x.artists.length);
  x.tracks.forEach((t, i) => (artistPlays[artistRow.get(t.artist_ids[0])!] += x.plays[i]));
  const order = [...artistPlays.keys()].sort((a, b) => artistPlays[b] - artistPlays[a] || a - b);
  const head = new Set(order.slice(0, Math.ceil(0.2 * order.length)));
  let users = 0, hits = 0, prec = 0, n = 0, tail = 0, fresh = 0, under = 0, artistsPer = 0;
  for (const [user, pos] of x.positives) {
    const list = lists.get(user);
    if (!list || list.length === 0) continue;
    users++;
    const got = list.filter((t) => pos.has(t)).length;
    if (got > 0) hits++;
    prec += got / list.length;
    const artists = new Set<number>();
    for (const t of list) {
      const a = artistRow.get(x.tracks[t].artist_ids[0])!;
      artists.add(a);
      n++;
      if (!head.has(a)) tail++;
      if (x.artists[a].is_new) fresh++;
      if (x.artists[a].underrated) under++;
    }
    artistsPer += artists.size;
  }
  const d = (a: number, b: number) => (b > 0 ? a / b : 0);
  return { users, hit_rate: d(hits, users), precision: d(prec, users), long_tail_share: d(tail, n), new_artist_share: d(fresh, n), underrated_share: d(under, n), artists_per_list: d(artistsPer, users) };
}

const fmtOr = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(4));

/** The `k` unheard rows with the highest score (ties: lower row). */
function topUnheard(score: ArrayLike<number>, heard: Set<number> | undefined, k: number): number[] {
  const skip = new Uint8Array(score.length);
  for (const i of heard ?? []) if (i < score.length) skip[i] = 1;
  return Array.from(topK(score, k, skip).items);
}

export const playlistsDemo: EvalSuite = {
  name: 'playlists-demo',
  description: 'Discover Weekly of the full pipeline on a generated demo world vs popularity, random and the oracle: hit rate on the held-out week, long-tail, new-artist and underrated shares, artist diversity',
  needs: [],
  async run(ctx): Promise<EvalReport> {
    const size: WorldSize = ctx.quick ? 'small' : ((process.env.DEEPCUT_EVAL_DEMO_SIZE as WorldSize | undefined) ?? 'default');
    const audioClips = Number(process.env.DEEPCUT_EVAL_DEMO_AUDIO ?? (ctx.quick ? 0 : 0));
    const root = await mkdtemp(join(tmpdir(), 'deepcut-eval-demo-'));
    try {
      const world = join(root, 'world');
      const home = join(root, 'home');
      const t0 = performance.now();
      await generateWorld({ size, seed: ctx.seed, out: world, audioClips });
      const t1 = performance.now();
      const store = await openStore({ home });
      const config = { ...defaultConfig(), home };
      config.cf = { ...config.cf, seed: ctx.seed, threads: ctx.threads };
      let runId: string;
      let stepSeconds: Record<string, number> = {};
      let rank: { metrics?: Record<string, number>; info?: Record<string, unknown> } | undefined;
      let t2: number;
      try {
        await importPath(store, 'jsonl', world, {});
        t2 = performance.now();
        const m = await runPipeline(defaultSteps(), { config, store, clock: new FixedClock(DEFAULT_CLOCK) });
        if (m.status !== 'succeeded') throw new Error(`pipeline run ${m.runId} ${m.status}: ${Object.entries(m.steps).filter(([, s]) => s.error).map(([n, s]) => `${n}: ${s.error}`).join('; ')}`);
        runId = m.runId;
        stepSeconds = Object.fromEntries(Object.entries(m.steps).map(([n, s]) => [n, s.seconds ?? 0]));
        rank = m.steps.rank?.output;
      } finally {
        await store.close();
      }
      const t3 = performance.now();

      // truth and held-out week
      const tracks = readJsonl<TrackTruth>(join(world, 'truth/tracks.jsonl'));
      const artists = readJsonl<ArtistTruth>(join(world, 'truth/artists.jsonl'));
      const tastes = readJsonl<UserTaste>(join(world, 'truth/taste.jsonl'));
      const weeks = (JSON.parse(readFileSync(join(world, 'truth/world.json'), 'utf8')) as { weeks: number }).weeks;
      const row = new Map(tracks.map((t, i) => [t.track_id, i]));
      const heard = new Map<string, Set<number>>();
      const plays = new Float64Array(tracks.length);
      for (const l of readJsonl<Listen>(join(world, 'listens.jsonl'))) {
        const t = row.get(l.track_id)!;
        (heard.get(l.user_id) ?? heard.set(l.user_id, new Set()).get(l.user_id)!).add(t);
        if (listenSignal(l.ms_played, l.skipped, defaultConfidence) === STREAM) plays[t]++;
      }
      const positives = new Map<string, Set<number>>();
      for (const l of readJsonl<Listen>(join(world, 'truth/future_listens.jsonl'))) {
        const t = row.get(l.track_id)!;
        if (listenSignal(l.ms_played, l.skipped, defaultConfidence) !== STREAM || heard.get(l.user_id)?.has(t)) continue;
        (positives.get(l.user_id) ?? positives.set(l.user_id, new Set()).get(l.user_id)!).add(t);
      }
      const input: PlaylistScoreInput = { tracks, artists, heard, positives, plays };

      // Discover Weekly as the pipeline made it
      const dwFile = join(home, 'runs', runId, 'playlists', 'discover-weekly.jsonl');
      const dw = new Map<string, number[]>();
      if (existsSync(dwFile)) for (const p of readJsonl<Playlist>(dwFile)) dw.set(p.userId!, p.tracks.map((t) => row.get(t.trackId)!).filter((t) => t !== undefined));
      const sources = new Map<string, number>();
      if (existsSync(dwFile)) for (const p of readJsonl<Playlist>(dwFile)) for (const t of p.tracks) sources.set(t.source, (sources.get(t.source) ?? 0) + 1);

      // baselines under the same never-heard rule
      const rng = new Rng(ctx.seed);
      const model = new TasteModel(artists, tracks);
      const pop = new Map<string, number[]>(), rnd = new Map<string, number[]>(), oracle = new Map<string, number[]>();
      const noisyPlays = Float64Array.from(plays, (p) => p + rng.next() * 1e-3);
      for (const taste of tastes) {
        if (!positives.has(taste.user_id)) continue;
        const h = heard.get(taste.user_id);
        pop.set(taste.user_id, topUnheard(noisyPlays, h, LIST));
        rnd.set(taste.user_id, topUnheard(Float64Array.from({ length: tracks.length }, () => rng.next()), h, LIST));
        oracle.set(taste.user_id, topUnheard(model.oracleScores(taste, 1 + 0.5 / weeks), h, LIST));
      }
      const rows: [string, ListFigures & { users: number }][] = [
        ['discover-weekly', scoreLists(dw, input)],
        ['popularity', scoreLists(pop, input)],
        ['random', scoreLists(rnd, input)],
        ['oracle', scoreLists(oracle, input)],
      ];
      const metrics: Record<string, number | string> = { world_size: size, audio_clips: audioClips, users_scored: rows[0][1].users, generate_s: (t1 - t0) / 1000, import_s: (t2 - t1) / 1000, pipeline_s: (t3 - t2) / 1000 };
      for (const [name, f] of rows) {
        const key = name.replace('-', '_');
        for (const [k, v] of Object.entries(f)) if (k !== 'users') metrics[`${key}_${k}`] = v;
      }
      for (const [step, s] of Object.entries(stepSeconds)) metrics[`step_${step}_s`] = s;
      // the rank step's own validation (plain CF list vs the ranked list on the run's last days) and whether it is used
      for (const [k, v] of Object.entries(rank?.metrics ?? {})) metrics[`rank_${k}`] = v;
      metrics.rank_ranker = String(rank?.info?.ranker ?? 'absent');
      const total = [...sources.values()].reduce((a, b) => a + b, 0);
      for (const [src, c] of sources) metrics[`dw_source_${src}_share`] = c / Math.max(1, total);
      const fmt = (x: number) => Number(x.toFixed(4));
      return {
        metrics,
        tables: [
          {
            title: `30-track lists on the ${size} demo world (seed ${ctx.seed}), scored on the held-out week: ${rows[0][1].users} listeners with new streamed tracks`,
            columns: ['list', 'hit_rate', 'precision', 'long_tail_share', 'new_artist_share', 'underrated_share', 'artists_per_list'],
            rows: rows.map(([n, f]) => [n, fmt(f.hit_rate), fmt(f.precision), fmt(f.long_tail_share), fmt(f.new_artist_share), fmt(f.underrated_share), fmt(f.artists_per_list)]),
          },
          { title: 'where Discover Weekly tracks came from', columns: ['source', 'share'], rows: [...sources].map(([s, c]) => [s, fmt(c / Math.max(1, total))]) },
          { title: 'time', columns: ['stage', 'seconds'], rows: [['generate', fmt((t1 - t0) / 1000)], ['import', fmt((t2 - t1) / 1000)], ...Object.entries(stepSeconds).map(([s, v]): [string, number] => [`pipeline: ${s}`, fmt(v)])] },
        ],
        notes: [
          `ranking stage: ${String(rank?.info?.ranker ?? 'absent')}${rank?.info?.reason ? ` (${String(rank.info.reason)})` : ''}; its validation on the run's last days: plain CF list hit rate ${fmtOr(rank?.metrics?.plain_hit_rate)}, ranked ${fmtOr(rank?.metrics?.ranked_hit_rate)} (long-tail ${fmtOr(rank?.metrics?.ranked_long_tail_share)}), ${fmtOr(rank?.metrics?.cpu_seconds)} CPU s`,
          'hit = a Discover Weekly track the listener streamed (≥ 30 s, not skipped) in the week after the clock and had never heard before; the oracle ranks by the generator\'s hidden taste model (upper bound).',
        ],
      };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};

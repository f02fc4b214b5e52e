/**
 * `generateWorld`: writes a whole demo world to a folder in deepcut's import format (one JSONL file
 * per entity, WAV clips under audio/) plus its ground truth under truth/, which no model reads.
 * The same seed and clock give the same bytes.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DeepcutError } from '../errors.ts';
import { progress } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import { generateCatalog, type Catalog } from './catalog.ts';
import { GENRES } from './genres.ts';
import { ListenerGenerator } from './listeners.ts';
import { generateDocuments } from './text.ts';
import { renderClip, encodeWav, clipVariety, tempoMap, SAMPLE_RATE, type ClipSpec, type ClipMeter, type ClipVarietyGroup } from './synth.ts';
import type { Mode } from './genres.ts';
import { LineWriter, WEEK_MS } from './util.ts';
import { topK } from '../core/topk.ts';

export type WorldSize = 'small' | 'default' | 'large';

/** How big each size is. `listens` is the expected number of training listens. */
export const SIZES: Record<WorldSize, { users: number; tracks: number; listens: number; audioClips: number; clipSeconds: number; weeks: number }> = {
  small: { users: 60, tracks: 400, listens: 10_000, audioClips: 24, clipSeconds: 4, weeks: 8 },
  default: { users: 2_000, tracks: 10_000, listens: 500_000, audioClips: 400, clipSeconds: 15, weeks: 8 },
  large: { users: 100_000, tracks: 50_000, listens: 5_000_000, audioClips: 0, clipSeconds: 0, weeks: 8 },
};

/** The default clock: a fixed Friday noon, so a seed alone fixes the bytes. */
export const DEFAULT_CLOCK = '2026-11-20T12:00:00Z';

export interface GenerateOptions {
  size: WorldSize;
  seed: number;
  /** Output folder; created when missing. A non-empty folder must hold an earlier world. */
  out: string;
  /** ISO timestamp with a zone; listens end here, the held-out week follows it. */
  clock?: string;
  /** Override the number of audio clips of the size (0 = no audio). */
  audioClips?: number;
  /**
   * Render about a third of the clips with real recordings' variety (slow, rubato, detuned, off-tonic,
   * duple, compound: synth.ts `clipVariety`); default true. Only the audio and truth/audio.jsonl change.
   */
  audioVariety?: boolean;
}

export interface Summary {
  out: string;
  size: WorldSize;
  seed: number;
  clock: string;
  counts: {
    genres: number;
    artists: number;
    albums: number;
    tracks: number;
    users: number;
    follows: number;
    listens: number;
    future_listens: number;
    documents: number;
    audio_clips: number;
  };
  /** Bytes written, all files. */
  bytes: number;
  seconds: number;
}

/** Files of the import format, in the order an importer should read them. */
export const WORLD_FILES = ['artists', 'albums', 'tracks', 'users', 'follows', 'listens', 'documents'] as const;

/**
 * Generate a world into `opts.out`.
 * @example await generateWorld({ size: 'small', seed: 1, out: '/tmp/world' })
 */
export async function generateWorld(opts: GenerateOptions): Promise<Summary> {
  const t0 = performance.now();
  const spec = SIZES[opts.size];
  if (!spec) throw new DeepcutError('invalid_input', `unknown size "${opts.size}"; expected small, default or large`, { field: '--size' });
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff) {
    throw new DeepcutError('invalid_input', `seed must be an integer in 0..4294967295, got ${opts.seed}`, { field: '--seed' });
  }
  const clock = opts.clock ?? DEFAULT_CLOCK;
  const clockMs = Date.parse(clock);
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(clock) || Number.isNaN(clockMs)) {
    throw new DeepcutError('invalid_input', `clock must be an ISO 8601 timestamp with a zone, e.g. ${DEFAULT_CLOCK}; got "${clock}"`, { field: '--clock' });
  }
  const out = resolve(opts.out);
  prepareFolder(out);
  const audioClips = opts.audioClips ?? spec.audioClips;

  const cat = generateCatalog({ seed: opts.seed, tracks: spec.tracks, clockMs });
  const audio = chooseAudioTracks(cat, audioClips, opts.seed);
  for (const t of audio) {
    cat.tracks[t].audio_path = `audio/${cat.tracks[t].track_id}.wav`;
    cat.trackTruth[t].has_audio = true;
  }
  let bytes = 0;
  const writeAll = (name: string, rows: readonly unknown[]) => {
    const w = new LineWriter(join(out, name));
    for (const r of rows) w.line(r);
    bytes += w.close();
    return rows.length;
  };
  writeAll('artists.jsonl', cat.artists);
  writeAll('albums.jsonl', cat.albums);
  writeAll('tracks.jsonl', cat.tracks);
  writeAll('truth/artists.jsonl', cat.artistTruth);
  writeAll('truth/tracks.jsonl', cat.trackTruth);
  const documents = writeAll('documents.jsonl', generateDocuments(cat, { seed: opts.seed, clockMs }));

  // Listeners, streamed user by user.
  const gen = new ListenerGenerator(cat, { seed: opts.seed, clockMs, weeks: spec.weeks, users: spec.users, listens: spec.listens });
  const files = {
    users: new LineWriter(join(out, 'users.jsonl')),
    follows: new LineWriter(join(out, 'follows.jsonl')),
    listens: new LineWriter(join(out, 'listens.jsonl')),
    taste: new LineWriter(join(out, 'truth/taste.jsonl')),
    future: new LineWriter(join(out, 'truth/future_listens.jsonl')),
    likes: new LineWriter(join(out, 'truth/likes.jsonl')),
  };
  const likesEvery = Math.max(1, Math.floor(spec.users / 5000));
  const futureTau = 1 + 0.5 / spec.weeks;
  const bar = progress('listeners', spec.users);
  let follows = 0;
  let listens = 0;
  let future = 0;
  for (let i = 0; i < spec.users; i++) {
    const u = gen.user(i);
    files.users.line(u.user);
    files.taste.line(u.taste);
    for (const f of u.follows) files.follows.line(f);
    for (const l of u.listens) files.listens.line(l);
    for (const l of u.future) files.future.line(l);
    follows += u.follows.length;
    listens += u.listens.length;
    future += u.future.length;
    if (i % likesEvery === 0) files.likes.line({ user_id: u.user.user_id, tracks: topLikes(gen, u.taste, futureTau, 50) });
    if (i % 256 === 255) {
      bar.tick(256);
      await new Promise((r) => setImmediate(r));
    }
  }
  bar.done();
  for (const w of Object.values(files)) bytes += w.close();

  // Audio clips, and the labels of each clip as rendered.
  const clipBar = progress('audio', audio.length);
  const clipLabels = new LineWriter(join(out, 'truth/audio.jsonl'));
  for (const t of audio) {
    const variety = opts.audioVariety === false ? { group: 'plain' as const } : clipVariety(opts.seed, t);
    const { group, ...change } = variety;
    const cs: ClipSpec = { ...clipSpec(cat, t, spec.clipSeconds), ...change };
    const pcm = renderClip(cs, { sampleRate: SAMPLE_RATE, seed: opts.seed });
    const wav = encodeWav(pcm, SAMPLE_RATE);
    writeFileSync(join(out, cat.tracks[t].audio_path!), wav);
    bytes += wav.length;
    clipLabels.line(clipTruth(cat.trackTruth[t].track_id, cs, group, opts.seed));
    clipBar.tick();
  }
  bytes += clipLabels.close();
  clipBar.done();

  const counts = {
    genres: GENRES.length,
    artists: cat.artists.length,
    albums: cat.albums.length,
    tracks: cat.tracks.length,
    users: spec.users,
    follows,
    listens,
    future_listens: future,
    documents,
    audio_clips: audio.length,
  };
  const world = {
    generator: 'deepcut generate',
    version: 1,
    size: opts.size,
    seed: opts.seed,
    clock: new Date(clockMs).toISOString(),
    weeks: spec.weeks,
    train_window: { from: new Date(clockMs - spec.weeks * WEEK_MS).toISOString(), to: new Date(clockMs).toISOString() },
    future_window: { from: new Date(clockMs).toISOString(), to: new Date(clockMs + WEEK_MS).toISOString() },
    audio: { sample_rate_hz: SAMPLE_RATE, channels: 1, bits: 16, clip_seconds: spec.clipSeconds },
    likes_every_nth_user: likesEvery,
    counts,
    genres: GENRES.map((g) => ({ name: g.name, tempo_bpm: g.tempo, meters: g.meters, major_share: g.majorShare, loudness_dbfs: g.loudness, drums: g.drums, share: g.share })),
  };
  const worldJson = JSON.stringify(world, null, 2) + '\n';
  writeFileSync(join(out, 'truth/world.json'), worldJson);
  bytes += Buffer.byteLength(worldJson);
  return { out, size: opts.size, seed: opts.seed, clock: world.clock, counts, bytes, seconds: (performance.now() - t0) / 1000 };
}

/** The tracks a listener would like most in the held-out week: top `k` by the oracle score. */
function topLikes(gen: ListenerGenerator, taste: Parameters<ListenerGenerator['model']['oracleScores']>[0], tau: number, k: number): string[] {
  const s = gen.model.oracleScores(taste, tau);
  return Array.from(topK(s, k).items, (t) => gen.catalog.tracks[t].track_id);
}

/** Tracks that get audio: round-robin over genres, a seeded choice inside each. */
function chooseAudioTracks(cat: Catalog, n: number, seed: number): number[] {
  const rng = new Rng(seed ^ 0xa0d10);
  const byGenre: number[][] = GENRES.map(() => []);
  cat.trackGenre.forEach((g, t) => byGenre[g].push(t));
  for (const l of byGenre) rng.shuffle(l);
  const chosen: number[] = [];
  for (let k = 0; chosen.length < Math.min(n, cat.tracks.length); k++) {
    for (const l of byGenre) if (k < l.length && chosen.length < n) chosen.push(l[k]);
  }
  return chosen.sort((a, b) => a - b);
}

/** The synthesis parameters of track `t` (its truth labels) for a clip of `seconds`. */
export function clipSpec(cat: Catalog, t: number, seconds: number) {
  const tt = cat.trackTruth[t];
  const style = cat.artistTruth[cat.trackArtist[t]].style;
  return {
    seconds,
    tempoBpm: tt.tempo_bpm,
    meter: tt.meter,
    key: tt.key,
    mode: tt.mode,
    loudnessDbfs: tt.loudness_dbfs,
    chords: style.chords,
    bass: style.bass,
    lead: style.lead,
    drums: GENRES[cat.trackGenre[t]].drums,
    progression: tt.progression,
    brightness: tt.brightness,
    voice: t,
  };
}

/** The labels of a clip as rendered (truth/audio.jsonl): its track's, changed by its variety group. */
export interface ClipTruth {
  track_id: string;
  /** `plain`: the track's catalog labels; otherwise the group that changed them (synth.ts `clipVariety`). */
  variety: ClipVarietyGroup;
  /** The mean tempo over the clip's beats (a dotted quarter in 6/8). */
  tempo_bpm: number;
  meter: ClipMeter;
  key: number;
  mode: Mode;
  loudness_dbfs: number;
  /** Cents off A = 440 Hz of every pitched part. */
  detune_cents: number;
  /** The tempo drifts by up to this fraction (0: steady). */
  rubato: number;
  /** The first half of the clip stays on the dominant. */
  opening: 'tonic' | 'dominant';
}

function clipTruth(trackId: string, cs: ClipSpec, variety: ClipVarietyGroup, seed: number): ClipTruth {
  const tempo = tempoMap(cs, seed).meanBpm;
  return { track_id: trackId, variety, tempo_bpm: Math.round(tempo * 100) / 100, meter: cs.meter, key: cs.key, mode: cs.mode, loudness_dbfs: cs.loudnessDbfs, detune_cents: cs.detuneCents ?? 0, rubato: cs.rubato ?? 0, opening: cs.opening ?? 'tonic' };
}

function prepareFolder(out: string): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new DeepcutError('conflict', `${out} exists and is not a folder`, { field: '--out' });
    const entries = readdirSync(out);
    if (entries.length && !existsSync(join(out, 'truth', 'world.json'))) {
      throw new DeepcutError('conflict', `${out} is not empty and holds no generated world (truth/world.json); choose an empty or new folder`, { field: '--out' });
    }
    for (const f of WORLD_FILES) rmSync(join(out, `${f}.jsonl`), { force: true });
    rmSync(join(out, 'audio'), { recursive: true, force: true });
    rmSync(join(out, 'truth'), { recursive: true, force: true });
  }
  mkdirSync(join(out, 'truth'), { recursive: true });
  mkdirSync(join(out, 'audio'), { recursive: true });
}

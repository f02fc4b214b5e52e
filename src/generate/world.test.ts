import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { entitySchemas, Listen, type EntityKind } from '../domain/schemas.ts';
import { DeepcutError } from '../errors.ts';
import { generateWorld, WORLD_FILES, DEFAULT_CLOCK, type Summary, type ClipTruth } from './world.ts';
import { hitRates, readJsonl, estimateTempo, chroma, estimateKey, autocorr, onsetEnvelope } from './testkit.ts';
import { decodeWav, renderClip, rmsDbfs, clipVariety, tempoMap, score, CLIP_VARIETIES } from './synth.ts';
import type { DrumKit, Meter } from './genres.ts';
import type { TrackTruth } from './catalog.ts';

const root = mkdtempSync(join(tmpdir(), 'deepcut-gen-'));
const A = join(root, 'a');
const B = join(root, 'b');
const C = join(root, 'c');
const D = join(root, 'd');
let summaryA: Summary;

before(async () => {
  summaryA = await generateWorld({ size: 'small', seed: 7, out: A });
  await generateWorld({ size: 'small', seed: 7, out: B });
  await generateWorld({ size: 'small', seed: 8, out: C, audioClips: 0 });
  await generateWorld({ size: 'small', seed: 7, out: D, audioVariety: false });
});
after(() => rmSync(root, { recursive: true, force: true }));

/** sha256 over the files of `dir` (relative path and bytes) that `keep` accepts. */
function folderHash(dir: string, keep: (rel: string) => boolean = () => true): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const p = join(d, name.name);
      if (name.isDirectory()) walk(p);
      else if (keep(relative(dir, p))) h.update(relative(dir, p) + '\0').update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

test('the clips\' variety comes from a random stream of its own: every non-audio file is the same bytes without it', () => {
  const nonAudio = (rel: string) => !rel.startsWith('audio/') && rel !== join('truth', 'audio.jsonl');
  assert.equal(folderHash(A, nonAudio), folderHash(D, nonAudio));
  const labels = readJsonl<ClipTruth>(join(A, 'truth/audio.jsonl'));
  const plain = readJsonl<ClipTruth>(join(D, 'truth/audio.jsonl'));
  assert.equal(labels.length, 24);
  assert.ok(plain.every((c) => c.variety === 'plain'));
  const varied = labels.filter((c) => c.variety !== 'plain');
  assert.ok(varied.length >= 4 && varied.length <= 14, `${varied.length} of 24 clips varied`);
  const tracks = new Map(readJsonl<TrackTruth>(join(A, 'truth/tracks.jsonl')).map((t) => [t.track_id, t]));
  for (const c of labels) {
    const same = readFileSync(join(A, 'audio', `${c.track_id}.wav`)).equals(readFileSync(join(D, 'audio', `${c.track_id}.wav`)));
    // a plain clip is the track's labels rendered as before; a varied one differs from it
    assert.equal(same, c.variety === 'plain', `${c.track_id} ${c.variety}`);
    const t = tracks.get(c.track_id)!;
    if (c.variety === 'plain') assert.deepEqual([c.tempo_bpm, c.meter, c.key, c.mode, c.detune_cents, c.rubato, c.opening], [t.tempo_bpm, t.meter, t.key, t.mode, 0, 0, 'tonic']);
  }
});

test('clipVariety: about a third of the clips, each group with its own labels in range', () => {
  const seen = new Map<string, number>();
  for (let t = 0; t < 2000; t++) {
    const v = clipVariety(42, t);
    seen.set(v.group, (seen.get(v.group) ?? 0) + 1);
    if (v.group === 'slow') assert.ok(v.tempoBpm! >= 50 && v.tempoBpm! <= 90);
    if (v.group === 'detuned') assert.ok(Math.abs(v.detuneCents!) >= 15 && Math.abs(v.detuneCents!) <= 50);
    if (v.group === 'rubato') assert.ok(v.rubato! >= 0.04 && v.rubato! <= 0.1);
    if (v.group === 'compound') assert.ok(v.meter === '6/8' && v.tempoBpm! >= 40 && v.tempoBpm! <= 100);
    if (v.group === 'duple') assert.equal(v.meter, '2/4');
    assert.deepEqual(clipVariety(42, t), v, 'the same seed and track give the same variety');
  }
  assert.deepEqual([...seen.keys()].sort(), [...CLIP_VARIETIES].sort());
  const plain = seen.get('plain')! / 2000;
  assert.ok(plain > 0.58 && plain < 0.7, `plain share ${plain}`);
});

test('a rubato clip follows its tempo map: beats drift, the mean tempo is its label', () => {
  const spec = { seconds: 20, tempoBpm: 100, meter: '4/4', key: 0, mode: 'major', loudnessDbfs: -12, chords: 'piano', bass: 'electric-bass', lead: 'flute', drums: 'rock', progression: 0, brightness: 0.5, voice: 9, rubato: 0.08 } as const;
  const map = tempoMap(spec, 3);
  const ibi = Array.from({ length: 30 }, (_, i) => map.at(0.6 * (i + 1)) - map.at(0.6 * i));
  assert.ok(Math.max(...ibi) / Math.min(...ibi) > 1.1, 'the beat period drifts');
  assert.ok(Math.abs(map.meanBpm / 100 - 1) < 0.08, `mean ${map.meanBpm}`);
  assert.equal(tempoMap({ ...spec, rubato: undefined }, 3).at(1.234), 1.234);
  // the notes follow the map: each sits where the map puts its place on the steady grid
  const steady = score({ ...spec, rubato: undefined }, 3);
  const drifting = score(spec, 3);
  for (let i = 0; i < 40; i++) assert.ok(Math.abs(drifting[i].start - map.at(steady[i].start)) < 1e-9, `note ${i}`);
  assert.ok(drifting.some((n, i) => Math.abs(n.start - steady[i].start) > 0.1), 'and so off the steady grid');
  assert.equal(renderClip(spec, { sampleRate: 22_050, seed: 3 }).length, 20 * 22_050);
});

test('the same seed gives the same bytes; another seed another world', () => {
  assert.equal(folderHash(A), folderHash(B));
  assert.notEqual(readFileSync(join(A, 'listens.jsonl'), 'utf8'), readFileSync(join(C, 'listens.jsonl'), 'utf8'));
  assert.notEqual(readFileSync(join(A, 'artists.jsonl'), 'utf8'), readFileSync(join(C, 'artists.jsonl'), 'utf8'));
});

test('the small world has the promised shape', () => {
  const c = summaryA.counts;
  assert.ok(c.genres >= 8);
  assert.equal(c.tracks, 400);
  assert.equal(c.users, 60);
  assert.equal(c.audio_clips, 24);
  assert.ok(c.listens > 7_000 && c.listens < 13_000, `listens ${c.listens}`);
  assert.ok(c.future_listens > 500, `future ${c.future_listens}`);
  assert.ok(c.documents >= c.artists * 2);
  const world = JSON.parse(readFileSync(join(A, 'truth/world.json'), 'utf8'));
  assert.equal(world.clock, new Date(DEFAULT_CLOCK).toISOString());
});

test('every line of every import file parses with its schema', () => {
  for (const f of WORLD_FILES) {
    const schema = entitySchemas[f as EntityKind];
    const lines = readFileSync(join(A, `${f}.jsonl`), 'utf8').split('\n').filter(Boolean);
    assert.ok(lines.length > 0, f);
    lines.forEach((l, i) => {
      const r = schema.safeParse(JSON.parse(l));
      assert.ok(r.success, `${f}.jsonl:${i + 1}: ${r.success ? '' : r.error.message}`);
    });
  }
  for (const l of readFileSync(join(A, 'truth/future_listens.jsonl'), 'utf8').split('\n').filter(Boolean)) Listen.parse(JSON.parse(l));
});

test('foreign keys, release dates, windows and audio paths are consistent', () => {
  const artists = new Set(readJsonl<{ artist_id: string }>(join(A, 'artists.jsonl')).map((a) => a.artist_id));
  const albums = new Map(readJsonl<{ album_id: string; artist_ids: string[]; release_date: string }>(join(A, 'albums.jsonl')).map((a) => [a.album_id, a]));
  const tracks = new Map(readJsonl<{ track_id: string; album_id: string; artist_ids: string[]; release_date: string; audio_path?: string }>(join(A, 'tracks.jsonl')).map((t) => [t.track_id, t]));
  const users = new Set(readJsonl<{ user_id: string }>(join(A, 'users.jsonl')).map((u) => u.user_id));
  for (const al of albums.values()) for (const a of al.artist_ids) assert.ok(artists.has(a), al.album_id);
  for (const t of tracks.values()) {
    assert.equal(albums.get(t.album_id)?.release_date, t.release_date, t.track_id);
    for (const a of t.artist_ids) assert.ok(artists.has(a), t.track_id);
    if (t.audio_path) assert.ok(existsSync(join(A, t.audio_path)), t.audio_path);
  }
  assert.ok([...tracks.values()].filter((t) => t.artist_ids.length === 2).length > 5, 'some collaborations');
  for (const f of readJsonl<{ user_id: string; artist_id: string }>(join(A, 'follows.jsonl'))) assert.ok(users.has(f.user_id) && artists.has(f.artist_id));
  for (const d of readJsonl<{ subject_kind: string; subject_id: string }>(join(A, 'documents.jsonl'))) {
    assert.ok(d.subject_kind === 'artist' ? artists.has(d.subject_id) : tracks.has(d.subject_id), d.subject_id);
  }
  const clock = Date.parse(DEFAULT_CLOCK);
  const ids = new Set<string>();
  for (const [file, lo, hi] of [['listens.jsonl', clock - 8 * 7 * 864e5, clock], ['truth/future_listens.jsonl', clock, clock + 7 * 864e5]] as const) {
    for (const l of readJsonl<Listen>(join(A, file))) {
      assert.ok(users.has(l.user_id) && tracks.has(l.track_id), l.listen_id);
      assert.ok(!ids.has(l.listen_id), `duplicate ${l.listen_id}`);
      ids.add(l.listen_id);
      const at = Date.parse(l.started_at);
      assert.ok(at >= lo && at < hi, `${l.listen_id} at ${l.started_at} outside ${file}'s window`);
      assert.ok(Date.parse(tracks.get(l.track_id)!.release_date) <= at, `${l.listen_id} before release`);
    }
  }
  // Release Radar has something to find: releases in the week of the clock and the weeks before.
  const recent = [...albums.values()].filter((a) => Date.parse(a.release_date) > clock - 7 * 864e5);
  assert.ok(recent.length > 0, 'releases in the last week');
});

test('listens behave: finished when liked, skipped within seconds otherwise, from many contexts and zones', () => {
  const durations = new Map(readJsonl<{ track_id: string; duration_ms: number }>(join(A, 'tracks.jsonl')).map((t) => [t.track_id, t.duration_ms]));
  const listens = readJsonl<Listen>(join(A, 'listens.jsonl'));
  let skips = 0;
  const contexts = new Set<string>();
  for (const l of listens) {
    if (l.skipped) {
      skips++;
      assert.ok(l.ms_played < 10_000 && l.reason_end === 'fwdbtn', l.listen_id);
    } else if (l.reason_end === 'trackdone') assert.equal(l.ms_played, durations.get(l.track_id));
    else assert.ok(l.ms_played >= 30_000, l.listen_id);
    contexts.add(l.context.split(':')[0]);
  }
  assert.ok(skips / listens.length > 0.08 && skips / listens.length < 0.5, `skip rate ${skips / listens.length}`);
  assert.deepEqual([...contexts].sort(), ['album', 'artist', 'home', 'library', 'playlist', 'radio', 'search']);
  // Replays: some user plays some track more than once.
  const pairs = new Map<string, number>();
  for (const l of listens) pairs.set(l.user_id + l.track_id, (pairs.get(l.user_id + l.track_id) ?? 0) + 1);
  assert.ok([...pairs.values()].some((n) => n >= 3));
  const zones = new Set(readJsonl<{ time_zone: string }>(join(A, 'users.jsonl')).map((u) => u.time_zone));
  assert.ok(zones.size >= 6, `zones ${[...zones]}`);
  const perUser = new Map<string, number>();
  for (const l of listens) perUser.set(l.user_id, (perUser.get(l.user_id) ?? 0) + 1);
  assert.ok([...perUser.values()].some((n) => n <= 6), 'a new listener with few events');
});

test('the world is learnable and not trivial: oracle ≫ popularity > random on held-out listens', () => {
  const r = hitRates(A, 20);
  assert.ok(r.users >= 40, `users ${r.users}`);
  assert.ok(r.oracle > r.popularity + 0.3, JSON.stringify(r));
  assert.ok(r.popularity > r.random, JSON.stringify(r));
  assert.ok(r.oracle < 1 || r.popularity < 0.5, 'not trivial');
});

test('audio labels match the audio: tempo (onset period), meter accents, key (chroma) and loudness', () => {
  const labelled = readJsonl<ClipTruth>(join(A, 'truth/audio.jsonl'));
  assert.equal(labelled.length, 24);
  let tempoOk = 0;
  let keyOk = 0;
  let keyClips = 0;
  for (const t of labelled) {
    const { samples, sampleRate } = decodeWav(readFileSync(join(A, 'audio', `${t.track_id}.wav`)));
    assert.equal(sampleRate, 22_050);
    assert.equal(samples.length, 4 * 22_050);
    assert.ok(Math.abs(rmsDbfs(samples) - t.loudness_dbfs) < 1.5, `${t.track_id} loudness ${rmsDbfs(samples)} vs ${t.loudness_dbfs}`);
    // Tempo: the onset period, allowing the usual octave ambiguity (MIREX "accuracy 2").
    const r = estimateTempo(samples, sampleRate) / t.tempo_bpm;
    if ([0.5, 1, 2].some((m) => Math.abs(r / m - 1) < 0.04)) tempoOk++;
    // Key: this plain chroma has no tuning estimate and no tonic evidence, so only clips whose
    // pitches sit on the grid and start on the tonic are held to it.
    if (t.detune_cents !== 0 || t.opening !== 'tonic') continue;
    keyClips++;
    const k = estimateKey(chroma(samples, sampleRate));
    if (k.key === t.key && k.mode === t.mode) keyOk++;
  }
  assert.ok(tempoOk >= 20, `tempo matched in ${tempoOk}/24 clips`);
  assert.ok(keyOk >= keyClips - 4, `key matched in ${keyOk}/${keyClips} clips`);
});

test('meter shows in the accents of every drum kit', () => {
  const kits: DrumKit[] = ['rock', 'metal', 'electronic', 'hiphop', 'brush', 'reggae', 'timpani', 'folk', 'soft'];
  const tempoBpm = 96;
  const beat = (60 / tempoBpm) * (22_050 / 128); // onset frames per beat
  const acf = (drums: DrumKit, meter: Meter) => {
    const x = renderClip({ seconds: 12, tempoBpm, meter, key: 2, mode: 'major', loudnessDbfs: -14, chords: 'piano', bass: 'electric-bass', lead: 'flute', drums, progression: 0, brightness: 0.5, voice: 3 }, { sampleRate: 22_050, seed: 1 });
    const env = onsetEnvelope(x, 512, 128);
    return (beats: number) => autocorr(env, Math.round(beat * beats));
  };
  for (const drums of kits) {
    const w = acf(drums, '3/4');
    const f = acf(drums, '4/4');
    const s = acf(drums, '6/8');
    // 3/4: the three-beat bar stands out; 4/4: the four-beat bar more than in 3/4.
    assert.ok(w(3) > w(2) && w(3) > w(4), `${drums} 3/4`);
    assert.ok(f(4) / f(3) > w(4) / w(3) + 0.3, `${drums} 4/4 vs 3/4`);
    // 6/8: two dotted-quarter beats a bar, felt in threes of eighths, not twos.
    assert.ok(s(2) > s(4 / 3) && s(1) > s(2 / 3), `${drums} 6/8`);
  }
});

test('refuses a non-empty folder that holds no world, bad seeds, clocks and sizes', async () => {
  const junk = join(root, 'junk');
  mkdirSync(junk);
  writeFileSync(join(junk, 'notes.txt'), 'mine');
  await assert.rejects(generateWorld({ size: 'small', seed: 1, out: junk }), (e: unknown) => {
    assert.ok(e instanceof DeepcutError && e.code === 'conflict');
    assert.equal(e.message, `field --out: ${junk} is not empty and holds no generated world (truth/world.json); choose an empty or new folder`);
    return true;
  });
  assert.equal(readFileSync(join(junk, 'notes.txt'), 'utf8'), 'mine');
  await assert.rejects(generateWorld({ size: 'small', seed: -1, out: join(root, 'x') }), /seed must be an integer in 0\.\.4294967295, got -1/);
  await assert.rejects(generateWorld({ size: 'small', seed: 1, out: join(root, 'x'), clock: '2026-11-20' }), /clock must be an ISO 8601 timestamp with a zone/);
  await assert.rejects(generateWorld({ size: 'huge' as 'small', seed: 1, out: join(root, 'x') }), /unknown size "huge"; expected small, default or large/);
});

test('a custom clock moves the whole world: listens end at it', async () => {
  const out = join(root, 'clock');
  await generateWorld({ size: 'small', seed: 7, out, clock: '2025-03-03T00:00:00Z', audioClips: 0 });
  const last = readJsonl<Listen>(join(out, 'listens.jsonl')).reduce((m, l) => Math.max(m, Date.parse(l.started_at)), 0);
  assert.ok(last < Date.parse('2025-03-03T00:00:00Z') && last > Date.parse('2025-02-20T00:00:00Z'));
  // Generating again into an earlier world replaces it.
  await generateWorld({ size: 'small', seed: 7, out, clock: '2025-03-03T00:00:00Z', audioClips: 0 });
  assert.equal(readdirSync(join(out, 'audio')).length, 0);
});

/**
 * The audio step on a small generated world with audio: features for every clip, a CNN trained on
 * the cf step's factors, vectors for unplayed tracks, self-describing artifacts, the cache on a
 * second run, a missing file that fails alone, a store without audio, and the playlist inputs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, rmSync, readFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWorld } from '../generate/index.ts';
import { importPath } from '../ingest/index.ts';
import { openStore } from '../store/index.ts';
import { defaultConfig } from '../config/config.ts';
import { runPipeline, type RunManifest } from './runner.ts';
import { InProcessQueue, type TaskQueue } from './tasks.ts';
import { analyzeFiles, audioCacheDir } from '../audio/index.ts';
import { inferTracks } from '../audio/coldstart.ts';
import { validateStep, signalsStep, cfStep, loadCfModel } from './steps.ts';
import { makeAudioStep, audioPlaylistInputs, loadAudioVectors } from './audio-step.ts';
import { FixedClock } from '../core/clock.ts';
import { loadSnapshot } from './persist.ts';
import { readArtifact } from '../cf/index.ts';
import { AudioCnn } from '../audio/cnn.ts';

const root = mkdtempSync(join(tmpdir(), 'dc-audio-step-'));
const NOW = '2026-11-23T06:00:00Z';
const step = makeAudioStep({ cnn: { channels: 16, embedding: 8, epochs: 2, batchSize: 16 }, patches: 2, minTrainTracks: 8 });
const steps = [validateStep, signalsStep, cfStep, step];

async function importWorld(name: string, audioClips: number): Promise<string> {
  const world = join(root, `${name}-world`);
  await generateWorld({ size: 'small', seed: 5, out: world, audioClips });
  const home = join(root, name);
  const store = await openStore({ home });
  await importPath(store, 'jsonl', world, {});
  await store.close();
  return home;
}

async function run(home: string): Promise<RunManifest> {
  const store = await openStore({ home });
  try {
    return await runPipeline(steps, { config: { ...defaultConfig(), home, cf: { ...defaultConfig().cf, factors: 8, iterations: 4, threads: 1 } }, store, clock: new FixedClock(NOW) });
  } finally {
    await store.close();
  }
}

let home = '';
before(async () => {
  home = await importWorld('audio', 40);
});
after(() => rmSync(root, { recursive: true, force: true }));

test('the audio step analyses every clip, trains the CNN and writes vectors for played and unplayed tracks', async () => {
  const m = await run(home);
  assert.equal(m.status, 'succeeded');
  const x = m.steps.audio.output!.metrics!;
  assert.equal(x.tracks_with_audio, 40);
  assert.equal(x.analysed, 40);
  assert.equal(x.failed, 0);
  assert.ok(x.cnn_train_tracks >= 8, `trained on ${x.cnn_train_tracks}`);
  assert.equal(x.predicted_tracks, 40);
  assert.ok(Number.isFinite(x.cnn_train_loss));
  const dir = join(home, 'runs', m.runId, 'audio');
  const features = readFileSync(join(dir, 'features.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(features.length, 40);
  assert.ok(features.every((f) => f.tempo_bpm > 0 && typeof f.track_id === 'string' && f.sha256.length === 64));
  const fa = await readArtifact(join(dir, 'audio-factors.bin'), { kind: 'audio-factors', runId: m.runId, shapes: { factors: [40, 8] } });
  assert.equal(fa.header.metric, 'inner_product');
  await assert.rejects(readArtifact(join(dir, 'audio-embeddings.bin'), { kind: 'audio-factors' }), /audio-embeddings\.bin: kind mismatch: expected "audio-factors", file has "audio-embeddings"/);
  const cnn = await AudioCnn.load(join(dir, 'cnn.bin'));
  assert.deepEqual(cnn.shape, { channels: 16, embedding: 8, factors: 8 });
  cnn.dispose();
  assert.ok(existsSync(join(dir, 'audio-embeddings.index')));

  // the playlist inputs: flow features and an `audio` source over unheard tracks with audio
  const s = await loadSnapshot(join(home, 'runs', m.runId, 'signals'));
  const model = await loadCfModel(join(home, 'runs', m.runId, 'cf'), s, 1);
  const v = await loadAudioVectors(dir, s);
  assert.ok(v.flow.size >= 30, `flow features for ${v.flow.size} tracks`);
  const unplayed = [...v.flow.keys()].filter((r) => s.catalog.tracks[r].plays === 0);
  for (const r of unplayed) assert.ok(v.factors!.data.subarray(r * 8, r * 8 + 8).some((f) => f !== 0), `unplayed track row ${r} has predicted factors`);
  const extra = await audioPlaylistInputs(dir, s, model);
  assert.deepEqual(extra.sources!.map((x) => x.name), ['audio']);
  const user = s.histories.find((h) => h.plays.size > 5)!;
  const c = extra.sources![0].candidates(user, 10);
  assert.ok(c.length > 0);
  for (const x of c) {
    assert.equal(x.reason.kind, 'sounds_like');
    assert.ok(x.reason.kind === 'sounds_like' && user.plays.has(s.catalog.trackRows.row(x.reason.trackId!)), 'sounds like a track the user played');
    assert.ok(!user.plays.has(x.track), 'a candidate the user has heard');
    assert.ok(v.flow.has(x.track) || s.catalog.tracks[x.track].audioPath);
  }
  // a listener none of whose favourites has audio: the reason is their taste, never the track itself
  const noAudio = { ...user, plays: new Map([...user.plays].filter(([t]) => !v.flow.has(t) && !s.catalog.tracks[t].audioPath)) };
  const c2 = extra.sources![0].candidates(noAudio, 10);
  assert.ok(c2.length > 0);
  for (const x of c2) assert.deepEqual(x.reason, { kind: 'sound_fits_taste' });
  const first = [...v.flow.keys()][0];
  assert.deepEqual(extra.flow!(first), v.flow.get(first));
});

test('CNN inference runs as one task per batch after the training task, and gives the bytes of one inference over every track', async () => {
  const h = join(root, 'audio-batches');
  cpSync(home, h, { recursive: true });
  const ids: string[] = [];
  const recording: TaskQueue = {
    run: (tasks, handler) => {
      ids.push(...tasks.map((t) => t.id));
      return new InProcessQueue().run(tasks, handler);
    },
  };
  const store = await openStore({ home: h });
  let m: RunManifest;
  try {
    m = await runPipeline(steps, { config: { ...defaultConfig(), home: h, cf: { ...defaultConfig().cf, factors: 8, iterations: 4, threads: 1 } }, store, clock: new FixedClock(NOW), queue: recording });
  } finally {
    await store.close();
  }
  assert.equal(m.status, 'succeeded');
  // 40 tracks with audio: 3 analysis batches of 16, the training task, 3 inference batches, the join
  assert.deepEqual(ids.filter((i) => i.startsWith('audio')), ['audio:0-of-3', 'audio:1-of-3', 'audio:2-of-3', 'audio:between', 'audio:infer-0-of-3', 'audio:infer-1-of-3', 'audio:infer-2-of-3', 'audio']);
  const dir = join(h, 'runs', m.runId, 'audio');
  assert.ok(!existsSync(join(h, 'runs', m.runId, 'audio.shards')), 'the shards are removed after the join');
  // the reference: the run's CNN over every analysed track's patches (from the content cache) at once
  const tracks = new Map(readFileSync(join(root, 'audio-world', 'tracks.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { track_id: string; audio_path?: string }).map((t) => [t.track_id, t.audio_path]));
  const order = JSON.parse(readFileSync(join(dir, 'audio-tracks.json'), 'utf8')) as string[];
  const outcomes = await analyzeFiles(order.map((id) => join(root, 'audio-world', tracks.get(id)!)), { cacheDir: audioCacheDir(h), patches: 2, threads: 1 });
  assert.ok(outcomes.every((o) => o.cached), 'patches from the cache');
  const cnn = await AudioCnn.load(join(dir, 'cnn.bin'));
  const one = await inferTracks(cnn, outcomes.map((o) => o.patches!));
  cnn.dispose();
  const fa = await readArtifact(join(dir, 'audio-factors.bin'), { kind: 'audio-factors' });
  const fe = await readArtifact(join(dir, 'audio-embeddings.bin'), { kind: 'audio-embeddings' });
  assert.equal(order.length, 40);
  assert.ok(Buffer.from((fa.arrays.factors as Float32Array).buffer).equals(Buffer.from(one.factors.buffer)), 'factors byte for byte');
  assert.ok(Buffer.from((fe.arrays.embeddings as Float32Array).buffer).equals(Buffer.from(one.embeddings.buffer)), 'embeddings byte for byte');
});

test('a second run reads features from the cache; a missing file fails alone', async () => {
  const again = join(root, 'audio-again');
  cpSync(home, again, { recursive: true });
  const m = await run(again);
  assert.equal(m.steps.audio.output!.metrics!.cached, 40);
  const tracks = readFileSync(join(root, 'audio-world', 'tracks.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const victim = tracks.find((t) => t.audio_path);
  rmSync(join(root, 'audio-world', victim.audio_path));
  const m2 = await run(again);
  assert.equal(m2.status, 'succeeded');
  assert.equal(m2.steps.audio.output!.metrics!.failed, 1);
  assert.equal(m2.steps.audio.output!.metrics!.analysed, 39);
  assert.match(String(m2.steps.audio.output!.info!.failures), new RegExp(`^1 of 40 audio files could not be analysed; first: .*${victim.audio_path}: cannot read audio file: ENOENT$`));
});

test('a store without audio: the step succeeds and says 0 tracks', async () => {
  const none = await importWorld('noaudio', 0);
  const m = await run(none);
  assert.equal(m.status, 'succeeded');
  assert.deepEqual({ ...m.steps.audio.output!.metrics!, seconds: 0 }, { tracks_with_audio: 0, analysed: 0, failed: 0, cached: 0, cnn_train_tracks: 0, predicted_tracks: 0, predicted_unplayed_tracks: 0, seconds: 0 });
  const s = await loadSnapshot(join(none, 'runs', m.runId, 'signals'));
  const extra = await audioPlaylistInputs(join(none, 'runs', m.runId, 'audio'), s, await loadCfModel(join(none, 'runs', m.runId, 'cf'), s, 1));
  assert.deepEqual(extra.sources, []);
  assert.equal(extra.flow!(0), undefined);
});

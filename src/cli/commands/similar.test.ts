/**
 * `deepcut similar` against a published run of a small generated world: artists by text and by cf,
 * tracks by cf, unknown ids (exit 4), and a published run without text artifacts.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateWorld } from '../../generate/index.ts';
import { readJsonl } from '../../generate/index.ts';
import { importPath } from '../../ingest/index.ts';
import { openStore } from '../../store/index.ts';
import { defaultConfig } from '../../config/config.ts';
import { runPipeline, publish, type Step } from '../../pipeline/index.ts';
import { validateStep, signalsStep, cfStep } from '../../pipeline/steps.ts';
import { textStep } from '../../pipeline/steps.ts';
import { FixedClock } from '../../core/clock.ts';

const bin = fileURLToPath(new URL('../../../bin/deepcut.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'dc-similar-'));
const world = join(root, 'world');
const home = join(root, 'home');
const clock = new FixedClock('2026-11-23T06:00:00Z');
let artist: string;
let track: string;

const deepcut = (...args: string[]) => spawnSync(process.execPath, [bin, '--home', home, ...args], { encoding: 'utf8', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });
const json = (r: ReturnType<typeof deepcut>) => JSON.parse(r.stdout.trim().split('\n').pop()!);

async function runAndPublish(steps: Step[]): Promise<void> {
  const store = await openStore({ home });
  try {
    const m = await runPipeline(steps, { config: { ...defaultConfig(), home }, store, clock });
    await publish(steps, home, m.runId, { tolerance: 1, force: true, clock, store });
  } finally {
    await store.close();
  }
}

before(async () => {
  await generateWorld({ size: 'small', seed: 5, out: world, audioClips: 0 });
  const store = await openStore({ home });
  try {
    await importPath(store, 'jsonl', world, {});
  } finally {
    await store.close();
  }
  artist = readJsonl<{ artist_id: string }>(join(world, 'artists.jsonl'))[0].artist_id;
  track = readJsonl<{ track_id: string }>(join(world, 'listens.jsonl'))[0].track_id;
  await runAndPublish([validateStep, signalsStep, cfStep, textStep]);
});

test('similar artist by text lists k artists with their descriptors', () => {
  const r = deepcut('similar', 'artist', artist, '--k', '5', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = json(r);
  assert.equal(out.by, 'text');
  assert.equal(out.similar.length, 5);
  assert.ok(out.similar.every((s: { id: string; described_as: string[] }) => s.id !== artist && s.described_as.length > 0));
  assert.ok(out.similar[0].score >= out.similar[4].score);
  const human = deepcut('similar', 'artist', artist, '--k', '3');
  assert.match(human.stdout, /^artists like .* by text, run \d{8}T\d{6}Z-\d+\n/);
});

test('similar artist by cf and similar track answer from the CF model', () => {
  const a = deepcut('similar', 'artist', artist, '--by', 'cf', '--json');
  assert.equal(a.status, 0, a.stderr);
  assert.equal(json(a).similar.length, 10);
  assert.ok(json(a).similar.every((s: { score: number }) => s.score <= 1 + 1e-5), 'cosine scores');
  const t = deepcut('similar', 'track', track, '--k', '4', '--json');
  assert.equal(t.status, 0, t.stderr);
  assert.equal(json(t).similar.length, 4);
});

test('an unknown id exits 4 naming it; a bad flag exits 2', () => {
  const a = deepcut('similar', 'artist', 'no-such-artist');
  assert.equal(a.status, 4);
  assert.match(a.stderr, /no artist "no-such-artist" in run /);
  const t = deepcut('similar', 'track', 'no-such-track');
  assert.equal(t.status, 4);
  assert.match(t.stderr, /no track "no-such-track" in run /);
  const b = deepcut('similar', 'artist', artist, '--by', 'audio');
  assert.equal(b.status, 2);
  assert.match(b.stderr, /--by must be one of text, cf, got "audio"/);
});

test('a published run without text artifacts: by text says to run the pipeline, by cf still answers', async () => {
  await runAndPublish([validateStep, signalsStep, cfStep]);
  const r = deepcut('similar', 'artist', artist);
  assert.equal(r.status, 4);
  assert.match(r.stderr, /no text artifacts in .*: run `deepcut pipeline run`/);
  const c = deepcut('similar', 'artist', artist, '--by', 'cf', '--json');
  assert.equal(c.status, 0, c.stderr);
  assert.equal(json(c).similar[0].described_as, undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { audioFeatureSource } from './load.ts';

test('audio features of a published run: scalar fields per track, distributions; none without the audio step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-serving-audio-'));
  assert.equal(await audioFeatureSource({ dir }), undefined);
  mkdirSync(join(dir, 'audio'));
  const row = (id: string, bpm: number) => JSON.stringify({ track_id: id, sha256: 'x', version: 2, duration_s: 15, tempo_bpm: bpm, tempo_confidence: 0.8, beats_s: [0.5, 1], downbeats_s: [0.5], time_signature: 4, time_signature_confidence: 0.9, key: 9, mode: 0, key_confidence: 0.7, loudness_lufs: null, mean_db: -14, energy: 0.6, danceability: 0.7 });
  writeFileSync(join(dir, 'audio', 'features.jsonl'), [row('t1', 120), row('t2', 90)].join('\n') + '\n');
  const src = await audioFeatureSource({ dir });
  assert.ok(src);
  const f = await src.get('t1');
  assert.equal(f?.tempo_bpm, 120);
  assert.equal(f?.key, 9);
  assert.equal(f?.loudness_lufs, undefined, 'a null loudness (silence) is left out, not shown as 0');
  assert.equal('beats_s' in (f ?? {}), false);
  assert.equal(await src.get('t3'), undefined);
  assert.deepEqual((await src.distributions()).tempo_bpm, [120, 90]);
});

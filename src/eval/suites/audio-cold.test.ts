import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recallAtK, featureAccuracy, runColdStart, QUICK } from './audio-cold.ts';

test('recallAtK: streamed candidates in the top k over the user’s streamed candidates, averaged over users', () => {
  const positives = new Map([
    [0, new Set([0, 3])],
    [1, new Set([2])],
  ]);
  const scores = [Float32Array.from([0.9, 0.1, 0.2, 0.8]), Float32Array.from([0.9, 0.8, 0.1, 0.0])];
  // user 0: top 2 = {0, 3} → 2/2; user 1: top 2 = {0, 1} → 0/1
  assert.equal(recallAtK(positives, (u) => scores[u], 2), 0.5);
  // ties break by the lower index: user 1 with all-equal scores gets {0, 1}
  assert.equal(recallAtK(new Map([[1, new Set([2])]]), () => new Float32Array(4), 2), 0);
  assert.equal(recallAtK(new Map(), () => new Float32Array(0), 2), 0);
});

test('featureAccuracy: octave errors count for Accuracy2 only, 6/8 must be reported as 6 (and is also reported apart), failures are counted', () => {
  const a = featureAccuracy([
    { est: { tempo_bpm: 120, key: 0, mode: 1, time_signature: 4 }, truth: { tempo_bpm: 121, key: 0, mode: 'major', meter: '4/4' } },
    { est: { tempo_bpm: 180, key: 9, mode: 1, time_signature: 4 }, truth: { tempo_bpm: 90, key: 9, mode: 'minor', meter: '3/4' } },
    { est: { tempo_bpm: 100, key: 2, mode: 0, time_signature: 3 }, truth: { tempo_bpm: 100, key: 2, mode: 'minor', meter: '6/8' } },
    { est: { tempo_bpm: 90, key: 2, mode: 0, time_signature: 6 }, truth: { tempo_bpm: 90, key: 2, mode: 'minor', meter: '6/8' } },
    { truth: { tempo_bpm: 100, key: 2, mode: 'minor', meter: '4/4' } },
  ]);
  assert.deepEqual(a, { clips: 4, failed: 1, tempo_accuracy1: 3 / 4, tempo_accuracy2: 1, key_mode_exact: 3 / 4, meter_accuracy: 2 / 4, meter_clips: 4, six_eight_accuracy: 1 / 2, six_eight_clips: 2 });
});

test('the cold-start evaluation runs end to end on a tiny world and reports every ranking', async () => {
  const r = await runColdStart({ ...QUICK, audioClips: 60, factors: 8, iterations: 3, cnn: { ...QUICK.cnn, channels: 8, embedding: 8, epochs: 1 }, patches: 1, featureClips: 4, seed: 3, threads: 1 });
  assert.equal(r.recalls.candidates, 12);
  assert.ok(r.recalls.users > 0);
  for (const k of ['audio', 'random', 'artist_popularity', 'oracle_popularity', 'warm_als'] as const) assert.ok(r.recalls[k] >= 0 && r.recalls[k] <= 1, `${k} ${r.recalls[k]}`);
  assert.equal(r.features.clips + r.features.failed, 4);
  assert.ok(Number.isFinite(r.finalLoss));
});

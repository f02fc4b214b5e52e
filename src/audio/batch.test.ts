import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { analyzeFiles, analyzeTracks } from './batch.ts';
import { PATCH_FRAMES, PATCH_MELS } from './patches.ts';

/** 16-bit mono WAV of a 440 Hz tone with clicks at 120 BPM. */
function toneWav(seconds: number, sr = 22050): Buffer {
  const n = seconds * sr;
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(buf.length - 8, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sr, 24);
  buf.writeUInt32LE(sr * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) {
    const click = i % (sr / 2) < 200 ? 0.5 * Math.sin(i * 1.3) : 0;
    buf.writeInt16LE(Math.round(32767 * (0.2 * Math.sin((2 * Math.PI * 440 * i) / sr) + click)), 44 + 2 * i);
  }
  return buf;
}

test('analyzeFiles: results in input order, bad files reported, the batch goes on, cache by content', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-batch-'));
  const a = join(dir, 'a.wav');
  writeFileSync(a, toneWav(7)); // longer than the shortest clip with a tempo (MIN_TEMPO_S)
  const b = join(dir, 'b.flac');
  writeFileSync(b, Buffer.from('fLaC but not really a flac file'));
  const cacheDir = join(dir, 'cache');
  const first = await analyzeFiles([b, a, join(dir, 'none.wav')], { cacheDir });
  assert.equal(first[0].error?.code, 'invalid_input');
  assert.match(first[0].error?.message ?? '', /b\.flac: cannot decode audio/);
  assert.ok(first[1].features && !first[1].cached);
  assert.equal(first[1].features.duration_s, 7);
  assert.ok(Math.abs(first[1].features.tempo_bpm - 120) < 3, String(first[1].features.tempo_bpm));
  assert.deepEqual(first[2].error, { code: 'not_found', message: `${join(dir, 'none.wav')}: cannot read audio file: ENOENT` });
  // the same bytes under another name come from the cache
  const copy = join(dir, 'copy.wav');
  copyFileSync(a, copy);
  const again = await analyzeFiles([copy], { cacheDir });
  assert.equal(again[0].cached, true);
  assert.deepEqual(again[0].features, first[1].features);
});

test('analyzeTracks on a worker pool: skips tracks without audio, resolves relative paths', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-batch-'));
  writeFileSync(join(dir, 'x.wav'), toneWav(3));
  writeFileSync(join(dir, 'y.wav'), toneWav(2));
  const out = await analyzeTracks(
    [{ track_id: 't1', audio_path: 'x.wav' }, { track_id: 't2' }, { track_id: 't3', audio_path: join(dir, 'y.wav') }],
    { baseDir: dir, threads: 2 },
  );
  assert.deepEqual([...out.keys()], ['t1', 't3']);
  assert.equal(out.get('t1')?.features?.duration_s, 3);
  assert.equal(out.get('t3')?.features?.duration_s, 2);
});

test('analyzeFiles with patches: one decode gives features and log-mel patches, both cached; patches alone on a pool', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-batch-'));
  const a = join(dir, 'a.wav');
  writeFileSync(a, toneWav(7));
  const cacheDir = join(dir, 'cache');
  const [first] = await analyzeFiles([a], { cacheDir, patches: 2 });
  assert.equal(first.patches?.length, 2);
  assert.equal(first.patches![0].length, PATCH_FRAMES * PATCH_MELS);
  assert.ok(first.features && !first.cached);
  const [again] = await analyzeFiles([a], { cacheDir, patches: 2 });
  assert.equal(again.cached, true);
  assert.deepEqual(again.patches, first.patches);
  // a different patch count is computed, the features still come from the cache
  const [three] = await analyzeFiles([a], { cacheDir, patches: 3 });
  assert.equal(three.patches?.length, 3);
  assert.equal(three.cached, false);
  assert.deepEqual(three.features, first.features);
  writeFileSync(join(dir, 'b.wav'), toneWav(3));
  const pool = await analyzeFiles([a, join(dir, 'b.wav')], { features: false, patches: 2, threads: 2 });
  assert.deepEqual(pool.map((x) => [x.features, x.patches?.length]), [[undefined, 2], [undefined, 2]]);
  assert.deepEqual(pool[0].patches, first.patches);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { AudioCnn, melPatches, PATCH_FRAMES, PATCH_MELS, type CnnExample } from './cnn.ts';
import { Rng } from '../util/rng.ts';

/** A 3.5 s clip whose pitch encodes `a` (200–800 Hz) and whose click rate encodes `b` (80–160 BPM). */
function clip(a: number, b: number, rng: Rng): Float32Array {
  const sr = 22050;
  const x = new Float32Array(Math.round(3.5 * sr));
  const f = 200 * 2 ** (2 * a);
  const period = (60 / (80 + 80 * b)) * sr;
  for (let i = 0; i < x.length; i++) x[i] = 0.2 * Math.sin((2 * Math.PI * f * i) / sr) + 0.01 * (rng.next() - 0.5);
  for (let s = 0; s < x.length; s += period) for (let i = 0; i < 300 && s + i < x.length; i++) x[Math.floor(s) + i] += 0.5 * (rng.next() - 0.5) * Math.exp(-i / 60);
  return x;
}

const pearson = (x: number[], y: number[]) => {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let n = 0, dx = 0, dy = 0;
  for (let i = 0; i < x.length; i++) {
    n += (x[i] - mx) * (y[i] - my);
    dx += (x[i] - mx) ** 2;
    dy += (y[i] - my) ** 2;
  }
  return n / Math.sqrt(dx * dy);
};

test('the audio CNN learns factors that audio determines, and saves/loads itself', async () => {
  const rng = new Rng(3);
  const make = (n: number) =>
    Array.from({ length: n }, () => {
      const a = rng.next();
      const b = rng.next();
      const patches = melPatches({ channels: [clip(a, b, rng)], sampleRate: 22050 }, 2);
      return { a, b, ex: { patches, target: Float32Array.from([a - 0.5, b - 0.5, 0.5 - a]) } as CnnExample };
    });
  const train = make(48);
  const held = make(16);
  assert.equal(train[0].ex.patches[0].length, PATCH_FRAMES * PATCH_MELS);
  const cnn = await AudioCnn.create({ channels: 24, embedding: 16, factors: 3 }, 7);
  const losses = await cnn.train(train.map((t) => t.ex), { epochs: 25, batchSize: 16, learningRate: 3e-3, seed: 1 });
  assert.ok(losses[losses.length - 1] < 0.5 * losses[0], `loss ${losses[0]} → ${losses[losses.length - 1]}`);
  const pred = await Promise.all(held.map((h) => cnn.infer(h.ex.patches)));
  const ra = pearson(held.map((h) => h.a), pred.map((p) => p.factors[0]));
  assert.ok(ra > 0.7, `held-out correlation of factor a: ${ra}`);
  assert.equal(pred[0].embedding.length, 16);
  const dir = mkdtempSync(join(tmpdir(), 'dc-cnn-'));
  await cnn.save(join(dir, 'cnn.bin'), 'test-run');
  const back = await AudioCnn.load(join(dir, 'cnn.bin'));
  const again = await back.infer(held[0].ex.patches);
  assert.deepEqual([...again.factors], [...pred[0].factors]);
  writeFileSync(join(dir, 'bad.bin'), '{"magic":"other"}\n');
  await assert.rejects(AudioCnn.load(join(dir, 'bad.bin')), /bad\.bin: not an audio CNN file \(magic "other", expected "deepcut-audio-cnn"\)/);
});

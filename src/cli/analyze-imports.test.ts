/**
 * `deepcut analyze one.wav` starts analysing at once: music servers and scripts call it per file.
 * The command really runs (on a short WAV) in a process that records every module it loads
 * (util/imports.testkit.ts); it must load the DSP and nothing of the CNN, the store, the CF models
 * or the pipeline. Its speed is measured by `npm run bench -- audio` (single-file wall time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forbiddenLoads, loadedBy } from '../util/imports.testkit.ts';
import { encodeWav } from '../generate/index.ts';

const FORBIDDEN: { what: string; match: (url: string) => boolean }[] = [
  { what: 'TensorFlow.js', match: (u) => u.includes('/node_modules/@tensorflow/') },
  { what: 'the audio CNN', match: (u) => /\/src\/audio\/(cnn|coldstart)\.ts$/.test(u) },
  { what: 'the store', match: (u) => /\/src\/store\//.test(u) || /\/node_modules\/(@duckdb|pg)\//.test(u) },
  { what: 'the CF models', match: (u) => /\/src\/cf\//.test(u) },
  { what: 'the pipeline', match: (u) => /\/src\/pipeline\//.test(u) },
];

test('deepcut analyze loads the DSP and neither TensorFlow.js, the store, CF nor the pipeline', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-analyze-imports-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const wav = join(dir, 'one.wav');
  const sr = 22_050;
  writeFileSync(wav, encodeWav(Float32Array.from({ length: sr }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 440 * i) / sr)), sr));
  const by = loadedBy(['src/cli/main.ts', '--home', dir, 'analyze', wav, '--no-cache', '--json']);
  assert.ok([...by.keys()].some((u) => u.endsWith('/src/audio/features.ts')), 'the recorder saw the analysis modules');
  assert.deepEqual(forbiddenLoads(by, FORBIDDEN), []);
});

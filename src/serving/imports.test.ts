/**
 * The serving process's walls: loading a published run and starting the server must not load the
 * pipeline's steps or TensorFlow.js (3–5 s of imports; an API node starts in well under a second).
 * Each entry is imported in a fresh node process that records every module it loads
 * (util/imports.testkit.ts) — dynamic imports run at load time included, lazy ones inside
 * functions not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forbiddenLoads, loadedByImport } from '../util/imports.testkit.ts';

/** Modules a serving process must never load. */
const FORBIDDEN: { what: string; match: (url: string) => boolean }[] = [
  { what: 'TensorFlow.js', match: (u) => u.includes('/node_modules/@tensorflow/') },
  { what: 'a pipeline step', match: (u) => /\/src\/pipeline\/(steps|[\w-]+-step)\.ts$/.test(u) },
  { what: 'the audio CNN', match: (u) => u.endsWith('/src/audio/cnn.ts') },
];

for (const entry of ['src/serving/load.ts', 'src/server/run.ts']) {
  test(`${entry} loads neither the pipeline's steps nor TensorFlow.js`, () => {
    const by = loadedByImport(entry);
    assert.ok([...by.keys()].some((u) => u.endsWith('/src/serving/live.ts') || u.endsWith('/src/serving/load.ts')), 'the recorder saw the serving modules');
    assert.deepEqual(forbiddenLoads(by, FORBIDDEN), []);
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listenSignal, confidenceSettings, defaultConfidence, signedConfidence, confidence, STREAM, QUICK_SKIP, NEITHER } from './index.ts';
import { defaultConfig, loadConfig } from '../config/config.ts';

test('listenSignal: stream, quick skip or neither, by the run settings', () => {
  const r = defaultConfidence;
  assert.equal(listenSignal(30_000, false, r), STREAM);
  assert.equal(listenSignal(200_000, 0, r), STREAM);
  assert.equal(listenSignal(9_999, false, r), QUICK_SKIP);
  assert.equal(listenSignal(60_000, true, r), QUICK_SKIP, 'a flagged skip is a skip however long');
  assert.equal(listenSignal(60_000, 1, r), QUICK_SKIP, "the store's 0/1 column");
  assert.equal(listenSignal(10_000, false, r), NEITHER);
  assert.equal(listenSignal(20_000, 0, r), NEITHER);
  const strict = { minStreamMs: 60_000, quickSkipMs: 60_000 };
  assert.equal(listenSignal(59_999, false, strict), QUICK_SKIP);
  assert.equal(listenSignal(60_000, false, strict), STREAM);
});

test('confidenceSettings: the config keys, the defaults coming from the config schema alone', () => {
  assert.deepEqual(defaultConfidence, confidenceSettings(defaultConfig()));
  assert.deepEqual(defaultConfidence, { minStreamMs: 30_000, quickSkipMs: 10_000, alpha: 1, epsilon: 1, scale: 'log', skips: 'negative' });
  const c = loadConfig({ env: { DEEPCUT_SIGNALS_MIN_STREAM_MS: '45000', DEEPCUT_SIGNALS_ALPHA: '2' } });
  assert.deepEqual(confidenceSettings(c), { minStreamMs: 45_000, quickSkipMs: 10_000, alpha: 2, epsilon: 1, scale: 'log', skips: 'negative' });
  assert.ok(Object.isFrozen(defaultConfidence), 'nobody can change the defaults in place');
});

test('signedConfidence: plays give c(net), net skips −c(|net|) (or nothing when skips only lower), zero nothing', () => {
  const o = { alpha: 1, epsilon: 1 };
  assert.equal(signedConfidence(3, o), confidence(3, o));
  assert.equal(signedConfidence(-3, o), -confidence(3, o));
  assert.equal(signedConfidence(-3, { ...o, skips: 'lower' }), 0);
  assert.equal(signedConfidence(0, o), 0);
});

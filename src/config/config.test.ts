import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, defaultConfig, configKeys } from './config.ts';
import { DeepcutError } from '../errors.ts';

test('defaults are complete and documented by configKeys', () => {
  const c = defaultConfig();
  assert.equal(c.home, './.deepcut');
  assert.equal(c.signals.minStreamMs, 30_000);
  assert.equal(c.cf.factors, 64);
  const keys = configKeys().map((k) => k.key);
  assert.ok(keys.includes('cf.factors') && keys.includes('databaseUrl') && keys.includes('server.port'));
  assert.equal(configKeys().find((k) => k.key === 'cf.cgSteps')?.env, 'DEEPCUT_CF_CG_STEPS');
});

test('file, env and flags merge with later sources winning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-config-'));
  const file = join(dir, 'deepcut.config.json');
  writeFileSync(file, JSON.stringify({ cf: { factors: 16, iterations: 3 }, home: '/data/a' }));
  const c = loadConfig({ file, env: { DEEPCUT_CF_FACTORS: '32', DEEPCUT_HOME: '/data/b' }, overrides: { 'cf.iterations': '7' } });
  assert.equal(c.cf.factors, 32);
  assert.equal(c.cf.iterations, 7);
  assert.equal(c.home, '/data/b');
  assert.equal(c.cf.regularization, 0.05);
});

test('a wrong value names the key, its source and the expected form', () => {
  assert.throws(
    () => loadConfig({ env: { DEEPCUT_CF_FACTORS: 'many' } }),
    (e: unknown) => e instanceof DeepcutError && e.code === 'config' && /cf\.factors from env DEEPCUT_CF_FACTORS: .*expected number/.test(e.message),
  );
  assert.throws(() => loadConfig({ env: {}, overrides: { 'server.port': '70000' } }), /server\.port from flag --set server\.port/);
  assert.throws(() => loadConfig({ env: { DATABASE_URL: 'mysql://x' } }), /databaseUrl from env DATABASE_URL: expected postgres:\/\//);
});

test('unknown keys and broken files are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-config-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"cf": {"factor": 3}}');
  assert.throws(() => loadConfig({ file: bad, env: {} }), /cf \(factor\) from file .*bad\.json: Unrecognized key/);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"cf": ');
  assert.throws(() => loadConfig({ file: broken, env: {} }), /broken\.json: not valid JSON/);
  assert.throws(() => loadConfig({ file: join(dir, 'missing.json'), env: {} }), /missing\.json: config file not found/);
});

test('signals: a quick skip longer than a stream is refused, naming both keys', () => {
  assert.throws(
    () => loadConfig({ env: { DEEPCUT_SIGNALS_QUICK_SKIP_MS: '40000' } }),
    (e: unknown) =>
      e instanceof DeepcutError &&
      e.code === 'config' &&
      e.message.includes('signals.quickSkipMs from env DEEPCUT_SIGNALS_QUICK_SKIP_MS: signals.quickSkipMs (40000) must not exceed signals.minStreamMs (30000)'),
  );
  assert.throws(() => loadConfig({ env: {}, overrides: { 'signals.minStreamMs': '5000' } }), /signals\.quickSkipMs \(10000\) must not exceed signals\.minStreamMs \(5000\)/);
  const equal = loadConfig({ env: {}, overrides: { 'signals.minStreamMs': '10000' } });
  assert.equal(equal.signals.quickSkipMs, equal.signals.minStreamMs, 'equal thresholds leave no "neither" band, which is allowed');
});

test('with DATABASE_URL serve never trains unless told to (the fleet default); embedded keeps the retrain', () => {
  const pg = 'postgres://deepcut@db:5432/deepcut';
  assert.equal(loadConfig({ env: {} }).scheduler.enabled, true);
  assert.equal(loadConfig({ env: { DATABASE_URL: pg } }).scheduler.enabled, false);
  assert.equal(loadConfig({ env: { DATABASE_URL: pg, DEEPCUT_SCHEDULER_ENABLED: 'true' } }).scheduler.enabled, true);
  assert.equal(loadConfig({ env: { DATABASE_URL: pg }, overrides: { 'scheduler.enabled': 'true' } }).scheduler.enabled, true);
});

/**
 * A real `deepcut serve` whose artifact store is S3 (a local endpoint on loopback) behind a proxy
 * that cuts its downloads mid-way, twice: the node retries, loads the published run with verified
 * bytes and serves it, and its log and /metrics say what happened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateWorld } from '../generate/index.ts';
import { importPath } from '../ingest/index.ts';
import { openStore } from '../store/index.ts';
import { defaultConfig, type Config } from '../config/config.ts';
import { FixedClock } from '../core/clock.ts';
import { runPipeline, publish } from '../pipeline/index.ts';
import { defaultSteps } from '../pipeline/steps.ts';
import { startS3, cuttingProxy, S3_TEST_CREDENTIALS } from '../artifacts/testing/s3.ts';

const bin = fileURLToPath(new URL('../../bin/deepcut.js', import.meta.url));
const creds = { AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey };

test('a serving node whose S3 downloads are cut mid-way retries, serves the published run, and says so in its log and /metrics', { timeout: 300_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dc-serve-s3-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const s3 = await startS3();
  t.after(() => s3.stop());
  const proxy = await cuttingProxy(s3.port);
  t.after(() => proxy.close());
  Object.assign(process.env, creds);

  // the builder: a run put into S3 directly
  await generateWorld({ size: 'small', seed: 3, out: join(root, 'world'), audioClips: 0 });
  const config: Config = { ...defaultConfig(), home: join(root, 'home'), artifacts: { url: s3.url('fleet') } };
  const store = await openStore({ home: config.home });
  let runId: string;
  try {
    await importPath(store, 'jsonl', join(root, 'world'), {});
    const clock = new FixedClock('2026-11-23T06:00:00Z');
    runId = (await runPipeline(defaultSteps(), { config, store, clock })).runId;
    await publish(defaultSteps(), config.home, runId, { tolerance: 0.02, clock, store });
  } finally {
    await store.close();
  }
  // the node starts with an empty cache and reads the store through the proxy: it never reads the
  // builder's run folder (a store other than <home>/runs is always read through the cache)
  rmSync(join(config.home, 'cache'), { recursive: true, force: true });
  proxy.cut(200 * 1024, 2);

  const proc = spawn(process.execPath, [bin, '--home', config.home, '--json', 'serve', '--port', '0', '--no-auth'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...creds, DEEPCUT_LOG_LEVEL: 'info', DEEPCUT_SCHEDULER_ENABLED: 'false', DEEPCUT_ARTIFACTS_URL: s3.url('fleet', proxy.port) },
  });
  t.after(() => void (proc.exitCode === null && proc.kill('SIGKILL')));
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) ok((JSON.parse(line) as { url: string }).url);
    });
    proc.on('exit', (code) => fail(new Error(`server exited with ${code}: ${err}`)));
  });

  assert.equal(proxy.cuts, 2, 'two downloads were cut');
  const ready = (await (await fetch(`${url}/readyz`)).json()) as { model: { kind: string; runId: string } };
  assert.deepEqual([ready.model.kind, ready.model.runId], ['published-run', runId], 'the node serves the published run, loaded from S3');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^deepcut_artifact_fetch_retries_total 2$/m);
  assert.match(metrics, /^deepcut_artifact_fetch_runs_total 1$/m);
  assert.match(metrics, /^deepcut_artifact_fetch_failures_total 0$/m);
  assert.match(metrics, /^deepcut_artifact_fetch_last_error_timestamp_seconds\{key="[^"]+",error="[^"]*the download broke off[^"]*"\} \d/m);
  const warnings = err.split('\n').filter((l) => l.includes('artifact download failed; retrying'));
  assert.equal(warnings.length, 2, err);
  assert.match(err, /run fetched from the artifact store/);
  proc.kill('SIGTERM');
});

/**
 * The S3 backend loses its connection mid-download (a loopback proxy in front of the local S3
 * endpoint cuts connections after a number of response bytes, twice, then lets them through): the
 * fetch retries, completes with verified bytes, and the failure shows in its counters and events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { S3ArtifactStore } from './s3.ts';
import { FetchStats, fetchRun, pushRun, type FetchEvent } from './runs.ts';
import { sha256File } from './store.ts';
import { startS3, cuttingProxy, S3_TEST_CREDENTIALS } from './testing/s3.ts';
import { seededBytes } from './testing/bytes.ts';

test('a download cut mid-way is retried and completes with verified bytes; the retries are counted and told', { timeout: 120_000 }, async (t) => {
  const s3 = await startS3();
  t.after(() => s3.stop());
  const proxy = await cuttingProxy(s3.port);
  t.after(() => proxy.close());
  const home = await mkdtemp(join(tmpdir(), 'dc-fault-'));
  t.after(() => rm(home, { recursive: true, force: true }));

  const run = join(home, 'runs', 'r1');
  mkdirSync(join(run, 'cf'), { recursive: true });
  writeFileSync(join(run, 'run.json'), '{"status":"succeeded"}');
  const size = 6 * 1024 * 1024 + 7;
  await pipeline(Readable.from(seededBytes(11, size)), createWriteStream(join(run, 'cf', 'als.bin')));
  const direct = new S3ArtifactStore(s3.url('fleet'), { credentials: S3_TEST_CREDENTIALS });
  t.after(() => direct.close());
  await pushRun(direct, run, 'r1');

  // the node reads through the proxy, which cuts the next two connections that pass 1 MiB
  const viaProxy = new S3ArtifactStore(s3.url('fleet', proxy.port), { credentials: S3_TEST_CREDENTIALS });
  t.after(() => viaProxy.close());
  proxy.cut(1024 * 1024, 2);
  const stats = new FetchStats();
  const retries: Extract<FetchEvent, { type: 'retry' }>[] = [];
  stats.on((e) => e.type === 'retry' && retries.push(e));
  const got = await fetchRun(viaProxy, 'r1', join(home, 'cache'), { stats, backoffMs: 10 });

  assert.equal(proxy.cuts, 2, 'the proxy cut two downloads');
  assert.deepEqual(await sha256File(join(got.dir, 'cf', 'als.bin')), await sha256File(join(run, 'cf', 'als.bin')));
  assert.deepEqual(retries.map((r) => [r.key, r.attempt, r.delayMs]), [['r1/cf/als.bin', 1, 10], ['r1/cf/als.bin', 2, 20]]);
  for (const r of retries) assert.match(r.error, /get r1\/cf\/als\.bin: the download broke off/);
  assert.equal(stats.metrics().artifact_fetch_retries_total, 2);
  assert.equal(stats.metrics().artifact_fetch_failures_total, 0);
  assert.ok(stats.lastError && stats.lastError.key === 'r1/cf/als.bin', 'the last error names the object');
  assert.equal(got.downloaded, 2);
  // no partial download left in the cache
  const blobs = join(home, 'cache', 'blobs');
  assert.deepEqual(readdirSync(blobs).flatMap((d) => readdirSync(join(blobs, d))).filter((f) => f.endsWith('.tmp')), []);

  // a store that stays down: the fetch gives up after its retries, and no run folder appears
  await s3.stop();
  const down = new FetchStats();
  await assert.rejects(fetchRun(viaProxy, 'r1', join(home, 'cache2'), { stats: down, retries: 1, backoffMs: 1 }), (e: unknown) => (e as { code?: string }).code === 'unavailable');
  assert.deepEqual([down.retries, down.failures], [1, 1]);
  assert.equal(existsSync(join(home, 'cache2', 'runs', 'r1')), false);
});

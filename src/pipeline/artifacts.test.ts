/**
 * Runs through the artifact store: a pipeline whose `artifacts.url` is S3 (a local endpoint on
 * loopback) puts every file of its run there, its file list last; a second node, with an empty home
 * and the same URL, loads the published run from the store alone and serves it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWorld } from '../generate/index.ts';
import { importPath } from '../ingest/index.ts';
import { openStore } from '../store/index.ts';
import { defaultConfig, type Config } from '../config/config.ts';
import { FixedClock } from '../core/clock.ts';
import { PRODUCTION_FILE } from '../cf/index.ts';
import { artifactFetchStats, openArtifactStore, readRunFiles, sha256File } from '../artifacts/index.ts';
import { startS3, S3_TEST_CREDENTIALS } from '../artifacts/testing/s3.ts';
import { loadServingState } from '../serving/index.ts';
import { runPipeline, publish } from './index.ts';
import { defaultSteps } from './steps.ts';
import { openPublished } from './published.ts';

// the stores opened by the pipeline and serving find their credentials as a deployment's do
process.env.AWS_ACCESS_KEY_ID = S3_TEST_CREDENTIALS.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = S3_TEST_CREDENTIALS.secretAccessKey;

test('a run built with an S3 artifacts URL is stored whole and served by a node that has only the URL', { timeout: 300_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'dc-pipe-s3-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const s3 = await startS3();
  t.after(() => s3.stop());
  await generateWorld({ size: 'small', seed: 5, out: join(root, 'world'), audioClips: 0 });
  const url = s3.url('prod');
  const config: Config = { ...defaultConfig(), home: join(root, 'builder'), artifacts: { url } };
  const store = await openStore({ home: config.home });
  t.after(() => store.close());
  await importPath(store, 'jsonl', join(root, 'world'), {});
  const clock = new FixedClock('2026-11-23T06:00:00Z');
  const run = await runPipeline(defaultSteps(), { config, store, clock });
  await publish(defaultSteps(), config.home, run.runId, { tolerance: 0.02, clock, store });

  // every file of the local run folder is in the store with its checksum, and the file list names them all
  const artifacts = await openArtifactStore(url);
  t.after(() => artifacts.close());
  const list = await readRunFiles(artifacts, run.runId);
  const local = join(config.home, 'runs', run.runId);
  const walk = (rel: string): string[] => readdirSync(join(local, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(rel, e.name)) : [join(rel, e.name)]));
  assert.deepEqual(list.files.map((f) => f.path), walk('').sort());
  for (const f of ['run.json', 'signals/snapshot.json', 'playlists/discover-weekly.jsonl']) assert.ok(list.files.some((x) => x.path === f), `${f} is in the run's file list`);
  // the cf model: plain ALS (als.bin) or the production model the step chose on its time split (production.bin and its parts)
  assert.ok(list.files.some((x) => x.path === 'cf/als.bin' || x.path === `cf/${PRODUCTION_FILE}`), "the cf model is in the run's file list");
  for (const f of list.files) {
    assert.deepEqual(await artifacts.stat(`${run.runId}/${f.path}`), { key: `${run.runId}/${f.path}`, size: f.size, sha256: f.sha256 });
    assert.equal((await sha256File(join(local, f.path))).sha256, f.sha256, f.path);
  }

  // the builder reads its run back from its cache, seeded as it pushed: nothing downloaded
  const own = await openPublished(config, { threads: 1 });
  await own.close();
  assert.equal(own.dir, join(config.home, 'cache', 'runs', run.runId));
  assert.deepEqual([artifactFetchStats.filesDownloaded, artifactFetchStats.cacheHits], [0, list.files.length]);

  // a second node: an empty home, the same URL and the published run's id (the publication itself
  // travels through the database in a fleet; here its pointer file is copied)
  const node: Config = { ...config, home: join(root, 'node') };
  mkdirSync(join(node.home, 'runs'), { recursive: true });
  copyFileSync(join(config.home, 'runs', 'PUBLISHED.json'), join(node.home, 'runs', 'PUBLISHED.json'));
  const opened = await openPublished(node, { threads: 1 });
  try {
    assert.equal(opened.runId, run.runId);
    assert.equal(opened.dir, join(node.home, 'cache', 'runs', run.runId));
    assert.equal(existsSync(join(node.home, 'runs', run.runId)), false, 'nothing read from a runs folder the node does not have');
    assert.equal(artifactFetchStats.filesDownloaded, list.files.length, 'the node downloaded every file once');
  } finally {
    await opened.close();
  }
  const state = await loadServingState(store, node);
  try {
    assert.equal(state.recs?.info.kind, 'published-run');
    assert.equal(state.recs?.info.runId, run.runId);
  } finally {
    await state.home?.close?.();
  }
});

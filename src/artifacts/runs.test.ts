import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from './fs.ts';
import { FetchStats, fetchRun, pruneCache, pushRun, readRunFiles, seedCache, RUN_FILES, type FetchEvent } from './runs.ts';

/** A run folder with a few steps' files; `variant` changes one file's bytes. */
function makeRun(dir: string, variant: string): void {
  for (const [p, text] of [
    ['run.json', `{"status":"succeeded","variant":"${variant}"}`],
    ['signals/snapshot.json', '{"tracks":[]}'],
    ['cf/als.bin', 'factors '.repeat(1000)],
    ['playlists/discover-weekly.jsonl', `{"userId":"u1","v":"${variant}"}\n`],
  ]) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  mkdirSync(join(dir, 'text.partial'), { recursive: true }); // an unfinished step's leftovers: not part of the run
  writeFileSync(join(dir, 'text.partial', 'half.bin'), 'x');
}

async function tmp(t: { after(fn: () => Promise<void>): void }, name: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `dc-${name}-`));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

const files = (dir: string, rel = ''): string[] =>
  readdirSync(join(dir, rel), { withFileTypes: true }).filter((e) => !e.name.startsWith('.')).flatMap((e) => (e.isDirectory() ? files(dir, rel ? `${rel}/${e.name}` : e.name) : [rel ? `${rel}/${e.name}` : e.name])).sort();

test('a run goes up file by file with its file list last, and comes back whole; the cache fetches only bytes it lacks', async (t) => {
  const home = await tmp(t, 'home');
  const store = new FsArtifactStore(await tmp(t, 'remote'));
  const cache = join(home, 'cache');
  makeRun(join(home, 'runs', 'r1'), 'a');
  const list = await pushRun(store, join(home, 'runs', 'r1'), 'r1');
  assert.deepEqual(list.files.map((f) => f.path), ['cf/als.bin', 'playlists/discover-weekly.jsonl', 'run.json', 'signals/snapshot.json']);
  assert.deepEqual((await store.list('r1/')).map((o) => o.key), ['r1/cf/als.bin', 'r1/files.json', 'r1/playlists/discover-weekly.jsonl', 'r1/run.json', 'r1/signals/snapshot.json']);
  assert.deepEqual(await readRunFiles(store, 'r1'), list);

  const stats = new FetchStats();
  const events: FetchEvent['type'][] = [];
  stats.on((e) => events.push(e.type));
  const got = await fetchRun(store, 'r1', cache, { stats });
  assert.equal(got.dir, join(cache, 'runs', 'r1'));
  assert.deepEqual([got.files, got.downloaded, got.cached], [4, 4, 0]);
  assert.deepEqual(files(got.dir), ['cf/als.bin', 'files.json', 'playlists/discover-weekly.jsonl', 'run.json', 'signals/snapshot.json']);
  for (const f of list.files) assert.equal(readFileSync(join(got.dir, f.path), 'utf8'), readFileSync(join(home, 'runs', 'r1', f.path), 'utf8'), f.path);
  assert.deepEqual(events, ['file', 'file', 'file', 'file', 'fetched']);
  assert.equal(stats.bytesDownloaded, got.bytes);

  // the same run again: nothing to fetch
  assert.deepEqual([(await fetchRun(store, 'r1', cache, { stats })).downloaded, stats.filesDownloaded], [0, 4]);
  // a second run sharing most of its bytes: only the two changed files are fetched
  makeRun(join(home, 'runs', 'r2'), 'b');
  await pushRun(store, join(home, 'runs', 'r2'), 'r2');
  const second = await fetchRun(store, 'r2', cache, { stats });
  assert.deepEqual([second.downloaded, second.cached], [2, 2]);
  assert.equal(readFileSync(join(second.dir, 'run.json'), 'utf8'), '{"status":"succeeded","variant":"b"}');
  assert.deepEqual(stats.metrics(), {
    artifact_fetch_runs_total: 2,
    artifact_fetch_files_total: 6,
    artifact_fetch_cache_hits_total: 2,
    artifact_fetch_bytes_total: got.bytes + second.bytes,
    artifact_fetch_retries_total: 0,
    artifact_fetch_failures_total: 0,
    artifact_fetch_last_error_timestamp_seconds: 0,
  });
  // nothing half-built is left beside the runs
  assert.deepEqual(readdirSync(join(cache, 'runs')).sort(), ['r1', 'r2']);
});

test('a push that stopped before its file list leaves a run readers do not see; pushing again resumes', async (t) => {
  const home = await tmp(t, 'home');
  const store = new FsArtifactStore(await tmp(t, 'remote'));
  makeRun(join(home, 'runs', 'r1'), 'a');
  await store.put('r1/run.json', { file: join(home, 'runs', 'r1', 'run.json') }); // a push cut short
  const stats = new FetchStats();
  await assert.rejects(fetchRun(store, 'r1', join(home, 'cache'), { stats }), /run r1 is not in .*: no files\.json \(the run does not exist or has not finished uploading\)/);
  assert.equal(existsSync(join(home, 'cache', 'runs', 'r1')), false);
  assert.deepEqual([stats.retries, stats.failures], [0, 1], 'a missing run is not retried');
  await pushRun(store, join(home, 'runs', 'r1'), 'r1');
  assert.equal((await fetchRun(store, 'r1', join(home, 'cache'), { stats })).files, 4);
});

test('with the store being the folder runs are built in, nothing is copied: only the file list is written', async (t) => {
  const home = await tmp(t, 'home');
  const store = new FsArtifactStore(join(home, 'runs'));
  makeRun(join(home, 'runs', 'r1'), 'a');
  const before = files(join(home, 'runs'));
  const list = await pushRun(store, join(home, 'runs', 'r1'), 'r1');
  assert.deepEqual(files(join(home, 'runs')), [...before, `r1/${RUN_FILES}`].sort());
  assert.equal(list.files.length, 4);
  assert.deepEqual(await readRunFiles(store, 'r1'), list);
});

test('a corrupt object is retried, then the fetch fails naming it, and no run folder appears', async (t) => {
  const home = await tmp(t, 'home');
  const remote = await tmp(t, 'remote');
  const store = new FsArtifactStore(remote);
  makeRun(join(home, 'runs', 'r1'), 'a');
  await pushRun(store, join(home, 'runs', 'r1'), 'r1');
  writeFileSync(join(remote, 'r1', 'cf', 'als.bin'), 'tampered');
  const stats = new FetchStats();
  const retries: string[] = [];
  stats.on((e) => e.type === 'retry' && retries.push(`${e.key} ${e.attempt} ${e.delayMs}`));
  await assert.rejects(fetchRun(store, 'r1', join(home, 'cache'), { stats, retries: 2, backoffMs: 1 }), /checksum mismatch for r1\/cf\/als\.bin/);
  assert.deepEqual(retries, ['r1/cf/als.bin 1 1', 'r1/cf/als.bin 2 2']);
  assert.deepEqual([stats.retries, stats.failures], [2, 1]);
  assert.match(stats.lastError!.message, /checksum mismatch/);
  assert.equal(existsSync(join(home, 'cache', 'runs', 'r1')), false);
  assert.deepEqual(readdirSync(join(home, 'cache', 'blobs')).flatMap((d) => readdirSync(join(home, 'cache', 'blobs', d))).filter((f) => f.endsWith('.tmp')), [], 'no partial download left');
});

test('the machine that pushed a run seeds its cache with it: reading it back downloads nothing', async (t) => {
  const home = await tmp(t, 'home');
  const store = new FsArtifactStore(await tmp(t, 'remote'));
  makeRun(join(home, 'runs', 'r1'), 'a');
  const list = await pushRun(store, join(home, 'runs', 'r1'), 'r1');
  await seedCache(list, join(home, 'runs', 'r1'), join(home, 'cache'));
  const got = await fetchRun(store, 'r1', join(home, 'cache'), { stats: new FetchStats() });
  assert.deepEqual([got.downloaded, got.cached], [0, 4]);
  assert.equal(readFileSync(join(got.dir, 'cf', 'als.bin'), 'utf8'), 'factors '.repeat(1000));
});

test('pruning the cache keeps the runs named and the bytes they use, and removes the rest', async (t) => {
  const home = await tmp(t, 'home');
  const store = new FsArtifactStore(await tmp(t, 'remote'));
  const cache = join(home, 'cache');
  for (const [id, v] of [['r1', 'a'], ['r2', 'b']]) {
    makeRun(join(home, 'runs', id), v);
    await pushRun(store, join(home, 'runs', id), id);
    await fetchRun(store, id, cache, { stats: new FetchStats() });
  }
  const blobs = () => readdirSync(join(cache, 'blobs')).flatMap((d) => readdirSync(join(cache, 'blobs', d)));
  assert.equal(blobs().length, 6, 'two runs of four files, two shared');
  const removed = await pruneCache(cache, ['r2']);
  assert.deepEqual([removed.runs, removed.blobs], [1, 2], 'r1 and its two own files');
  assert.deepEqual(readdirSync(join(cache, 'runs')), ['r2']);
  assert.equal(blobs().length, 4);
  // r2 is still whole, and fetching r1 again downloads only what was pruned
  assert.equal(readFileSync(join(cache, 'runs', 'r2', 'run.json'), 'utf8'), '{"status":"succeeded","variant":"b"}');
  assert.deepEqual([(await fetchRun(store, 'r1', cache, { stats: new FetchStats() })).downloaded], [2]);
});

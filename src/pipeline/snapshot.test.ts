import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../store/testing/memory.ts';
import { defaultConfig, loadConfig } from '../config/config.ts';
import { buildSnapshot } from './snapshot.ts';
import { importPath, trackIdOf } from '../ingest/index.ts';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSnapshot, saveSnapshot, SNAPSHOT_VERSION } from './persist.ts';
import { readArtifact } from '../cf/index.ts';
import { artists, tracks, play } from '../server/testing/world.ts';
import { rowEntries } from '../signals/index.ts';
import { DeepcutError } from '../errors.ts';

async function snapshotOf(env: Record<string, string>) {
  const store = new MemoryStore();
  await store.put('artists', artists);
  await store.put('tracks', tracks);
  await store.put('listens', [play('u0', 'a0', 0, 70_000), play('u0', 'a1', 1, 45_000), play('u0', 'b0', 2, 4_000), play('u1', 'b1', 3, 20_000)]);
  return buildSnapshot(store, loadConfig({ env }));
}

test('a snapshot records the signal settings it was built with, and classifies by them', async () => {
  const s = await snapshotOf({ DEEPCUT_SIGNALS_MIN_STREAM_MS: '60000', DEEPCUT_SIGNALS_ALPHA: '2' });
  assert.deepEqual(s.signals, { minStreamMs: 60_000, quickSkipMs: 10_000, alpha: 2, epsilon: 1, scale: 'log', skips: 'negative' });
  const t = (id: string) => s.catalog.trackRows.row(id);
  const u0 = s.histories[s.users.row('u0')].plays;
  assert.deepEqual(u0.get(t('a0')), { streams: 1, skips: 0, lastAt: Date.parse(play('u0', 'a0', 0).started_at) }, '70 s ≥ 60 s: a stream');
  assert.equal(u0.get(t('a1'))!.streams + u0.get(t('a1'))!.skips, 0, '45 s: neither under a 60 s rule');
  assert.equal(u0.get(t('b0'))!.skips, 1);
  assert.deepEqual(rowEntries(s.userTracks, s.users.row('u0')).map(([c, v]) => [c, +v.toFixed(5)]), [[t('a0'), +(1 + 2 * Math.log(2)).toFixed(5)], [t('b0'), -(1 + 2 * Math.log(2)).toFixed(5)]]);
  const dir = mkdtempSync(join(tmpdir(), 'dc-snapshot-'));
  await saveSnapshot(dir, s, 'run-a');
  const header = (await readArtifact(join(dir, 'signals.bin'))).header.params;
  assert.deepEqual([header.minStreamMs, header.quickSkipMs, header.alpha, header.epsilon, header.scale, header.skips], [60_000, 10_000, 2, 1, 'log', 'negative']);
  const back = await loadSnapshot(dir);
  assert.deepEqual(back.signals, s.signals);
  assert.deepEqual(back.userTracks, s.userTracks);
});

test('a snapshot of another version is refused, naming the expected and the found version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-snapshot-'));
  await saveSnapshot(dir, await snapshotOf({}), 'run-b');
  const file = join(dir, 'snapshot.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(json.version, SNAPSHOT_VERSION);
  writeFileSync(file, JSON.stringify({ ...json, version: 3 }));
  await assert.rejects(loadSnapshot(dir), (e: unknown) => e instanceof DeepcutError && e.code === 'invalid_input' && e.message === `${file}: snapshot version mismatch: expected 2 (or 1), file has 3`);
});

test('a version 2 signals header without its settings is refused, naming the setting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dc-snapshot-'));
  const s = await snapshotOf({});
  await saveSnapshot(dir, { ...s, signals: { ...s.signals!, scale: 'cubic' as 'log' } }, 'run-c');
  await assert.rejects(loadSnapshot(dir), /signals\.bin: signal setting scale is "cubic", expected one of log, linear/);
});

test('snapshots written by version 1 still load (kept fixture), without recorded settings', async () => {
  // src/pipeline/fixtures/snapshot-v1: the server test world's catalog (10 tracks, 2 artists), users u0 (a0, a1 played; b0 skipped) and u1 (b1 played; b2 20 s: neither)
  const s = await loadSnapshot(new URL('./fixtures/snapshot-v1', import.meta.url).pathname);
  assert.equal(s.signals, undefined);
  assert.deepEqual(s.users.toArray(), ['u0', 'u1']);
  assert.equal(s.catalog.tracks.length, 10);
  const t = (id: string) => s.catalog.trackRows.row(id);
  const c = +(1 + Math.log(2)).toFixed(5);
  assert.deepEqual(rowEntries(s.userTracks, 0).map(([col, v]) => [col, +v.toFixed(5)]), [[t('a0'), c], [t('a1'), c], [t('b0'), -c]]);
  assert.deepEqual(rowEntries(s.userTracks, 1).map(([col, v]) => [col, +v.toFixed(5)]), [[t('b1'), c]]);
  assert.deepEqual(s.histories[1].plays.get(t('b2')), { streams: 0, skips: 0, lastAt: s.histories[1].plays.get(t('b2'))!.lastAt });
});

test('listens of a track created from names count for the catalog track once the catalog has it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-snapshot-'));
  try {
    const store = new MemoryStore();
    const file = join(dir, 'listens.jsonl');
    const at = 1714564800;
    writeFileSync(file, [0, 1, 2].map((i) => JSON.stringify({ listened_at: at + i * 300, user_name: 'ann', track_metadata: { artist_name: 'Röyksopp', track_name: i === 2 ? 'EPLE (Remastered)' : 'Eple', additional_info: { duration_ms: 221_000 } } })).join('\n'));
    await importPath(store, 'listenbrainz', file);
    const named = trackIdOf('Röyksopp', 'Eple');
    const config = defaultConfig();
    let snap = await buildSnapshot(store, config);
    assert.equal(snap.catalog.tracks[snap.catalog.trackRows.row(named)].plays, 3, 'before: the created track has the plays (the remaster spelling found it)');

    await store.put('artists', [{ artist_id: 'cat-r', name: 'Royksopp', genres: [] }]);
    await store.put('tracks', [{ track_id: 'cat-eple', title: 'Eple', artist_ids: ['cat-r'], duration_ms: 220_000, release_date: '2001-01-01' }]);
    snap = await buildSnapshot(store, config);
    assert.equal(snap.catalog.tracks[snap.catalog.trackRows.row('cat-eple')].plays, 3, 'after: the catalog track has them');
    assert.equal(snap.catalog.tracks[snap.catalog.trackRows.row(named)].plays, 0);
    const u = snap.users.row('ann');
    assert.deepEqual([...snap.histories[u].plays.keys()], [snap.catalog.trackRows.row('cat-eple')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

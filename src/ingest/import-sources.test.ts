/**
 * Drift that blocks is about data, not about where it came from: batches are compared with the
 * earlier batches of their own source. A clean Spotify export after the demo catalog never
 * blocks; a broken export, or a batch with a large share of unknown ids, still does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/index.ts';
import { generateWorld } from '../generate/index.ts';
import { importPath } from './import.ts';
import { assertNotBlocked, latestValidation } from '../validate/index.ts';
import { loadSchema } from '../validate/index.ts';
import { spotifyExport } from './history.testkit.ts';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/deepcut.js', import.meta.url));
/** `deepcut validate --json` on a store home (the store must be closed: DuckDB locks it). */
const validateCli = (home: string) => spawnSync(process.execPath, [bin, '--home', home, 'validate', '--json'], { encoding: 'utf8', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });

const root = mkdtempSync(join(tmpdir(), 'deepcut-sources-'));
const NOW = new Date('2026-12-01T00:00:00Z');
const opts = { clock: () => NOW };
function exportDir(name: string, content: string): string {
  const d = join(root, name);
  mkdirSync(d);
  writeFileSync(join(d, 'Streaming_History_Audio_2023-2024_0.json'), content);
  return d;
}
const blocked = async (store: Parameters<typeof latestValidation>[0]) => (await latestValidation(store)).filter((v) => v.status === 'blocked').map((v) => `${v.entity}@${v.source}: ${v.reasons.join('; ')}`);

test('demo catalog, then clean Spotify exports: nothing blocks; a broken export and a batch of unknown ids still block', async () => {
  const world = join(root, 'world');
  await generateWorld({ size: 'small', seed: 3, out: world, audioClips: 0 });
  const home = join(root, 'home');
  let store = await openStore({ home });
  try {
    assert.equal((await importPath(store, 'jsonl', world, opts)).blocked, false);

    const first = exportDir('a', spotifyExport({ seed: 1, streams: 1500, from: '2023-01-01T08:00:00Z', platforms: ['Android OS 12 API 31 (Google, Pixel 6)', 'windows'] }));
    const a = await importPath(store, 'spotify-history', first, { ...opts, user: 'me' });
    assert.ok(a.totals.listens!.imported > 1400, JSON.stringify(a.totals));
    assert.deepEqual(await blocked(store), [], 'a clean export after the catalog does not block');
    await assertNotBlocked(store);
    assert.equal((await loadSchema(store, 'tracks', 'spotify-extended'))?.source, 'spotify-extended', 'the export has a schema of its own');
    assert.equal((await loadSchema(store, 'tracks'))?.inferred_from.endsWith('.tracks'), true, "the catalog's schema is untouched");
    assert.equal((await loadSchema(store, 'listens', 'spotify-extended'))?.features.find((f) => f.name === 'platform')?.domain, undefined, 'device names are open-ended');

    // a year later, a new phone: still the same source, still clean
    const second = exportDir('b', spotifyExport({ seed: 2, streams: 1500, from: '2024-01-01T08:00:00Z', platforms: ['iOS 17.1.2 (iPhone15,3)', 'windows', 'web_player windows 10;chrome 120.0.0.0;desktop'] }));
    await importPath(store, 'spotify-history', second, { ...opts, user: 'me' });
    assert.deepEqual(await blocked(store), [], 'a second clean export does not block');
    await store.close();
    const ok = validateCli(home);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout.trim().split('\n').pop()!).blocked, false);
    store = await openStore({ home });

    // an export where every stream played 0 ms is broken data: its play times drift from the source's earlier batch
    const broken = exportDir('c', spotifyExport({ seed: 4, streams: 800, from: '2024-09-01T08:00:00Z', platforms: ['windows'], zeroPlay: true }));
    await importPath(store, 'spotify-history', broken, { ...opts, user: 'me' });
    const why = await blocked(store);
    assert.ok(why.some((w) => /^listens@spotify-extended: .*ms_played drifted from batch \w+\.listens: Jensen–Shannon divergence/.test(w)), why.join('\n'));
    await assert.rejects(assertNotBlocked(store), /validation blocks the pipeline: .*ms_played drifted/);
  } finally {
    await store.close();
  }
  const no = validateCli(home);
  assert.equal(no.status, 7, 'deepcut validate exits 7 when a batch blocks');
  assert.match(no.stdout, /ms_played drifted/);
});

test('own listens with a large share of unknown track ids block, whatever came before', async () => {
  const d = join(root, 'own');
  mkdirSync(d);
  const jl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  writeFileSync(join(d, 'artists.jsonl'), jl([{ artist_id: 'a1', name: 'Alpha' }]));
  writeFileSync(join(d, 'tracks.jsonl'), jl([{ track_id: 't1', title: 'One', artist_ids: ['a1'], duration_ms: 200000, release_date: '2020-01-01' }]));
  writeFileSync(join(d, 'users.jsonl'), jl([{ user_id: 'u1' }]));
  writeFileSync(join(d, 'listens.jsonl'), jl(Array.from({ length: 100 }, (_, i) => ({ listen_id: `l${i}`, user_id: 'u1', track_id: i % 3 ? 't1' : `gone${i}`, started_at: '2024-05-01T12:00:00Z', ms_played: 1000 }))));
  const store = await openStore({ home: join(root, 'home-own') });
  try {
    const s = await importPath(store, 'jsonl', d, opts);
    assert.equal(s.blocked, true);
    assert.deepEqual(await blocked(store), ['listens@deepcut: 34.0% of 100 rows are anomalies (limit 5.0%, validation.maxAnomalyRate): 34 unknown_id in track_id']);
  } finally {
    await store.close();
  }
});

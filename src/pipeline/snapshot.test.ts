import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../store/testing/memory.ts';
import { defaultConfig } from '../config/config.ts';
import { buildSnapshot } from './snapshot.ts';
import { importPath, trackIdOf } from '../ingest/index.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

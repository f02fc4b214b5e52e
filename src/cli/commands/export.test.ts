import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/deepcut.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });

test('deepcut export writes listens to a file or stdout (summary on stderr), and names what it cannot export', () => {
  const root = mkdtempSync(join(tmpdir(), 'dc-export-'));
  const home = join(root, 'home');
  const rows = [
    { listen_id: 'l2', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:01Z', ms_played: 2000 },
    { listen_id: 'l1', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 1000, platform: 'ios' },
  ];
  writeFileSync(join(root, 'artists.jsonl'), JSON.stringify({ artist_id: 'a1', name: 'A' }) + '\n');
  writeFileSync(join(root, 'tracks.jsonl'), JSON.stringify({ track_id: 't1', title: 'T', artist_ids: ['a1'], duration_ms: 200000, release_date: '2020-01-01' }) + '\n');
  writeFileSync(join(root, 'users.jsonl'), JSON.stringify({ user_id: 'u1' }) + '\n');
  writeFileSync(join(root, 'listens.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const imported = run('--home', home, 'import', 'jsonl', root);
  assert.equal(imported.status, 0, imported.stderr);

  const csv = run('--home', home, 'export', 'listens', '--format', 'csv', '--out', '-');
  assert.equal(csv.status, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines[0], 'listen_id,user_id,track_id,started_at,ms_played,reason_end,skipped,context,platform');
  assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['l1', 'l2'], 'in key order');
  assert.match(lines[1], /,2024-05-01T12:00:00\.000000Z,1000,/);
  assert.match(csv.stderr, /exported 2 listens rows as csv to stdout/);

  const file = join(root, 'out.jsonl');
  const j = run('--home', home, '--json', 'export', 'listens', '--format', 'jsonl', '--out', file);
  assert.equal(j.status, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout.trim()), { kind: 'listens', format: 'jsonl', rows: 2, out: file });
  assert.deepEqual(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).listen_id), ['l1', 'l2']);

  const bad = run('--home', home, 'export', 'tracks');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /cannot export "tracks"; one of listens, interactions, playlists/);
  const fmt = run('--home', home, 'export', 'listens', '--format', 'xlsx');
  assert.match(fmt.stderr, /unknown format "xlsx"; one of parquet, csv, jsonl/);
  const none = run('--home', home, 'export', 'playlists', '--out', join(root, 'p.parquet'));
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /no published run yet/);
});

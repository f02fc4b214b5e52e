import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/deepcut.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, DEEPCUT_LOG_LEVEL: 'silent' } });

test('--help lists the commands', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  for (const c of ['demo', 'config', 'eval']) assert.match(r.stdout, new RegExp(`^  ${c}\\b`, 'm'));
});

test('--json prints exactly one JSON object as the last stdout line', () => {
  const r = run('config', 'show', '--json', '--set', 'cf.factors=8');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]).cf.factors, 8);
});

test('a bad config value exits 3 with the key named; an unknown command exits 2', () => {
  const r = run('config', 'show', '--set', 'cf.factors=zero');
  assert.equal(r.status, 3);
  assert.match(r.stderr, /cf\.factors from flag --set cf\.factors/);
  const u = run('no-such-command');
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown command/);
});

test('demo --size small --no-serve builds, imports, runs and publishes; a second demo imports nothing new', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const home = mkdtempSync(join(tmpdir(), 'dc-demo-'));
  const first = run('--home', home, 'demo', '--size', 'small', '--no-serve', '--json');
  assert.equal(first.status, 0, first.stderr);
  const r = JSON.parse(first.stdout.trim().split('\n').pop()!);
  assert.deepEqual(r.stages.map((s: { stage: string }) => s.stage), ['generate', 'import', 'pipeline', 'publish']);
  assert.match(r.run, /^\d{8}T\d{6}Z-1$/);
  // the demo runs on its world's day, whatever today is: Release Radar has that week's releases
  assert.equal(r.today, '2026-11-20T12:00:00.000Z');
  assert.match(first.stderr, /today for the demo is Friday 2026-11-20, 12:00 UTC/);
  const { readFileSync, readdirSync } = await import('node:fs');
  // the week's archive: one object per listener bucket, named by the run
  assert.deepEqual(readdirSync(join(home, 'playlists', 'release-radar')), ['2026-11-20']);
  const week = join(home, 'playlists', 'release-radar', '2026-11-20');
  const radars = readdirSync(week)
    .flatMap((b) => readFileSync(join(week, b, `${r.run}.jsonl`), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as { tracks: unknown[] });
  assert.equal(radars.length, 60);
  const filled = radars.filter((p) => p.tracks.length > 0).length; // the small world releases 13 tracks that week
  assert.ok(filled >= 50, `${filled} of 60 listeners have a Release Radar`);
  const second = run('--home', home, 'demo', '--size', 'small', '--no-serve', '--json');
  assert.equal(second.status, 0, second.stderr);
  const r2 = JSON.parse(second.stdout.trim().split('\n').pop()!);
  assert.match(r2.stages[0].detail, /^reusing /);
  assert.match(r2.stages[1].detail, / 0 new$/);
});

test('quarantine show finds a kept row by id, and says not_found for an unknown one', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const home = mkdtempSync(join(tmpdir(), 'deepcut-cli-q-'));
  try {
    const file = join(home, 'artists.jsonl');
    writeFileSync(file, ['{"artist_id":"a1","name":"One"}', '{"artist_id":"a2"}', 'not json', '{"artist_id":"a3","name":"Three"}'].join('\n') + '\n');
    assert.equal(run('import', 'jsonl', file, '--home', home, '--json').status, 0);
    const list = JSON.parse(run('quarantine', 'list', '--home', home, '--json').stdout.trim().split('\n').pop()!);
    const rows = (Array.isArray(list) ? list : list.rows) as { id: number; line: number }[];
    assert.deepEqual(rows.map((r) => r.line), [2, 3]);
    const shown = run('quarantine', 'show', String(rows[1].id), '--home', home, '--json');
    assert.equal(shown.status, 0, shown.stderr);
    const row = JSON.parse(shown.stdout.trim().split('\n').pop()!);
    assert.equal(row.line, 3);
    assert.equal(row.raw, 'not json');
    const missing = run('quarantine', 'show', String(rows[1].id + 100), '--home', home);
    assert.equal(missing.status, 4);
    assert.match(missing.stderr, /no quarantined row/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

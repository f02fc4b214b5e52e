/**
 * The whole pipeline on a small generated world: import, run, publish, the playlists' rules on
 * real output, and a crash injected in each step (SIGKILL in a child process) that resumes to the
 * same playlists as a clean run.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateWorld } from '../generate/index.ts';
import { importPath } from '../ingest/index.ts';
import { openStore } from '../store/index.ts';
import { defaultConfig } from '../config/config.ts';
import { runPipeline, publish, listRuns, readPublished } from './runner.ts';
import { defaultSteps } from './steps.ts';
import { FixedClock } from '../core/clock.ts';
import type { Playlist } from '../playlists/index.ts';

const root = mkdtempSync(join(tmpdir(), 'dc-pipeline-'));
const world = join(root, 'world');
const clean = join(root, 'clean');
const NOW = '2026-11-23T06:00:00Z';
const child = fileURLToPath(new URL('./testing/pipeline-child.ts', import.meta.url));

function dwTracks(home: string, runId: string): Map<string, string[]> {
  const lines = readFileSync(join(home, 'runs', runId, 'playlists', 'discover-weekly.jsonl'), 'utf8').trim().split('\n');
  return new Map(lines.map((l) => JSON.parse(l) as Playlist).map((p) => [p.userId!, p.tracks.map((t) => t.trackId)]));
}

before(async () => {
  await generateWorld({ size: 'small', seed: 11, out: world, audioClips: 0 });
  const store = await openStore({ home: clean });
  await importPath(store, 'jsonl', world, {});
  await store.close();
  cpSync(clean, join(root, 'imported'), { recursive: true }); // a pristine imported store for the crash runs
});

test('a clean run publishes and its Discover Weekly keeps the rules', async () => {
  const config = { ...defaultConfig(), home: clean };
  const store = await openStore({ home: clean });
  try {
    const clock = new FixedClock(NOW);
    const m = await runPipeline(defaultSteps(), { config, store, clock });
    assert.equal(m.status, 'succeeded');
    const cf = m.steps.cf.output!.metrics!;
    assert.ok(cf.ndcg_at_10 > cf.popularity_ndcg_at_10, `ALS ${cf.ndcg_at_10} vs popularity ${cf.popularity_ndcg_at_10}`);
    await publish(defaultSteps(), clean, m.runId, { tolerance: 0.02, clock, store });
    assert.equal((await readPublished(clean))?.runId, m.runId);
    const listens = await store.list('listens');
    const heard = new Map<string, Set<string>>();
    for (const l of listens) (heard.get(l.user_id) ?? heard.set(l.user_id, new Set()).get(l.user_id)!).add(l.track_id);
    const tracks = new Map((await store.list('tracks')).map((t) => [t.track_id, t]));
    for (const [user, list] of dwTracks(clean, m.runId)) {
      assert.equal(list.length, 30, user);
      assert.equal(new Set(list).size, 30);
      const perArtist = new Map<string, number>();
      const perAlbum = new Map<string, number>();
      for (const t of list) {
        assert.ok(!heard.get(user)?.has(t), `${user} heard ${t}`);
        const tr = tracks.get(t)!;
        for (const a of tr.artist_ids) perArtist.set(a, (perArtist.get(a) ?? 0) + 1);
        if (tr.album_id) perAlbum.set(tr.album_id, (perAlbum.get(tr.album_id) ?? 0) + 1);
      }
      assert.ok(Math.max(...perArtist.values()) <= 2 && Math.max(...perAlbum.values()) <= 1, user);
    }
  } finally {
    await store.close();
  }
});

for (const step of ['signals', 'cf', 'playlists']) {
  test(`a crash in the ${step} step resumes to the same playlists`, async () => {
    const home = join(root, `crash-${step}`);
    cpSync(join(root, 'imported'), home, { recursive: true });
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, home, NOW], { env: { ...process.env, DEEPCUT_CRASH_IN_STEP: step, DEEPCUT_LOG_LEVEL: 'silent' }, encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    const [crashed] = await listRuns(home);
    assert.equal(crashed.steps[step].status, 'running');
    const store = await openStore({ home });
    try {
      const m = await runPipeline(defaultSteps(), { config: { ...defaultConfig(), home }, store, clock: new FixedClock(NOW), resume: crashed.runId });
      assert.equal(m.status, 'succeeded');
      const [cleanRun] = await listRuns(clean);
      assert.deepEqual(dwTracks(home, m.runId), dwTracks(clean, cleanRun.runId));
    } finally {
      await store.close();
    }
  });
}

/**
 * The rank step in the pipeline on a small generated world: its report says whether the ranker is
 * used (or why not), the run's model is the ranked one exactly when it is, and Discover Weekly
 * comes from the ranked list then; `rank.enabled: false` leaves the CF model.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWorld } from '../generate/index.ts';
import { importPath } from '../ingest/index.ts';
import { openStore } from '../store/index.ts';
import { defaultConfig, type Config } from '../config/config.ts';
import { runPipeline } from './runner.ts';
import { defaultSteps } from './steps.ts';
import { openRunAt } from './published.ts';
import { FixedClock } from '../core/clock.ts';
import { RankedRecommender } from '../rank/index.ts';
import type { Playlist } from '../playlists/index.ts';

const root = mkdtempSync(join(tmpdir(), 'dc-rank-step-'));
const world = join(root, 'world');
const clock = new FixedClock(new Date('2026-11-23T06:00:00Z'));

before(async () => {
  await generateWorld({ size: 'small', seed: 5, out: world, audioClips: 0 });
});
after(() => rmSync(root, { recursive: true, force: true }));

async function run(name: string, edit: (c: Config) => Config) {
  const home = join(root, name);
  const store = await openStore({ home });
  try {
    await importPath(store, 'jsonl', world, {});
    const config = edit({ ...defaultConfig(), home });
    const m = await runPipeline(defaultSteps(), { config, store, clock });
    assert.equal(m.status, 'succeeded', JSON.stringify(m.steps));
    const dw = readFileSync(join(home, 'runs', m.runId, 'playlists', 'discover-weekly.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Playlist);
    const sources = new Set(dw.flatMap((p) => p.tracks.map((t) => t.source)));
    const r = await openRunAt(join(home, 'runs', m.runId), m.runId);
    const ranked = r.model instanceof RankedRecommender;
    await r.close();
    return { out: m.steps.rank.output!, sources, ranked, dir: join(home, 'runs', m.runId, 'rank') };
  } finally {
    await store.close();
  }
}

test('the rank step reports its decision, and the run ranks with the stage exactly when it is used', async () => {
  const a = await run('on', (c) => c);
  const decision = a.out.info?.ranker;
  assert.ok(decision === 'used' || decision === 'fallback', `info.ranker: ${String(decision)}`);
  if (decision === 'used') {
    assert.ok(a.out.metrics!.ranked_hit_rate > a.out.metrics!.plain_hit_rate);
    assert.ok(a.ranked, 'the published run ranks with the stage');
    assert.ok([...a.sources].some((s) => s.startsWith('ranked:')), `Discover Weekly sources: ${[...a.sources].join(', ')}`);
  } else {
    assert.match(String(a.out.info?.reason), /recommendations stay the (plain model|CF model)'s/);
    assert.equal(a.ranked, false);
    assert.ok(![...a.sources].some((s) => s.startsWith('ranked:')));
  }

  const off = await run('off', (c) => ({ ...c, rank: { ...c.rank, enabled: false } }));
  assert.equal(off.out.info?.ranker, 'off');
  assert.equal(off.ranked, false);
  assert.equal(existsSync(join(off.dir, 'stage.json')), false);
  assert.ok(![...off.sources].some((s) => s.startsWith('ranked:')));
});

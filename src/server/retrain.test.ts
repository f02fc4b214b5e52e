/**
 * The daily retrain inside a serving process, on a small generated world: the impression log is
 * loaded, the new run is published and served without a restart, and a listen posted while the
 * pipeline runs (after its snapshot) is in the new live model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPublished } from '../pipeline/index.ts';
import { defaultSteps } from '../pipeline/steps.ts';
import { servedWorld } from './testing/served-world.ts';
import { impressionLogDir } from '../bandit/index.ts';
import { retrain } from './retrain.ts';

test('retrain: loads the impression log, publishes, swaps serving to the new run, keeps listens posted meanwhile', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dc-retrain-'));
  try {
    const { store, config, state, clock, runId: firstRun } = await servedWorld(root, { size: 'small', seed: 5, audioClips: 0 });
    const home = config.home;
    try {
      assert.equal(state.recs?.info.runId, firstRun);
      const user = state.recs!.knownUsers(1)[0];
      const page = await state.home!.home(user, state.recs!);
      const shown = page.shelves.reduce((n, s) => n + s.cards.length, 0);
      assert.ok(shown > 0);
      const before = new Set(state.recs!.heard(user, 10_000));
      const late = page.shelves.flatMap((s) => s.cards).find((c) => !before.has(c.track_id))!.track_id;
      // a listen posted while the pipeline runs, after the signals step read the store
      const steps = defaultSteps().map((s) =>
        s.name !== 'cf'
          ? s
          : {
              ...s,
              run: async (ctx: Parameters<typeof s.run>[0]) => {
                state.recs!.observe([{ user_id: user, track_id: late, ms_played: 200_000, skipped: false }]);
                return s.run(ctx);
              },
            },
      );
      const runId = await retrain(store, config, state, { clock, steps });
      assert.notEqual(runId, firstRun);
      assert.equal((await readPublished(home))?.runId, runId);
      assert.equal(state.recs?.info.runId, runId, 'serving swapped to the new run');
      assert.equal(await store.count('impressions'), shown, 'the impression log was loaded by the bandit step');
      assert.deepEqual(readdirSync(impressionLogDir(home)), []);
      assert.ok(state.recs!.heard(user, 10_000).includes(late), 'the listen posted during the run is in the new live model');
      await state.home?.close?.();
    } finally {
      await store.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

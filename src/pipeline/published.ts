/**
 * The published run, opened for reading: its snapshot, its CF model and its folder. Serving, the
 * playlist command and the web page read only this, never a run in progress. It loads through the
 * model families' own loaders (src/cf/load.ts here; src/text/artifacts.ts, src/audio/artifacts.ts
 * for their folders), never through the pipeline's steps: a serving process opens a run without
 * importing training code or TensorFlow.js (src/serving/imports.test.ts).
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { readPublished, readManifest, runsDir, currentPublication } from './runner.ts';

export { readPublished, currentPublication };
import { loadSnapshot } from './persist.ts';
import { loadCfModel } from '../cf/index.ts';
import type { Snapshot } from './snapshot.ts';
import type { Recommender } from '../cf/index.ts';
import { DeepcutError } from '../errors.ts';

export interface PublishedRun {
  runId: string;
  dir: string;
  snapshot: Snapshot;
  model: Recommender;
  close(): Promise<void>;
}

/** The published run of `home` (its PUBLISHED.json mirror), or run `opts.runId`, from `<home>/runs/<id>`. */
export async function openPublished(home: string, opts: { threads?: number; runId?: string } = {}): Promise<PublishedRun> {
  const runId = opts.runId ?? (await readPublished(home))?.runId;
  if (!runId) throw new DeepcutError('unavailable', 'no published run yet: run `deepcut pipeline run` first');
  await readManifest(home, runId);
  return openRunAt(join(runsDir(home), runId), runId, opts);
}

/** Run `runId` from its folder `dir` on this machine (wherever it was fetched to). */
export async function openRunAt(dir: string, runId: string, opts: { threads?: number } = {}): Promise<PublishedRun> {
  if (!existsSync(join(dir, 'run.json'))) throw new DeepcutError('not_found', `no pipeline run ${runId} (looked for ${join(dir, 'run.json')})`);
  const snapshot = await loadSnapshot(join(dir, 'signals'));
  const model = await loadCfModel(join(dir, 'cf'), snapshot, opts.threads ?? 1, { runId });
  return {
    runId,
    dir,
    snapshot,
    model,
    close: async () => {
      await (model as Partial<{ close(): Promise<void> }>).close?.();
    },
  };
}

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
import { artifactsUrl, fetchRun, isRunsFolder, openArtifactStore, type FetchOptions } from '../artifacts/index.ts';
import type { Config } from '../config/config.ts';

export { readPublished, currentPublication };
import { loadSnapshot } from './persist.ts';
import { loadCfModel } from '../cf/index.ts';
import { rankedModelOf, runDirsOf } from './rank-load.ts';
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

/** Where a deployment keeps its runs: a home folder (runs stored in `<home>/runs`) or the config's `home` and `artifacts.url`. */
export type RunHome = string | Pick<Config, 'home' | 'artifacts'>;

/**
 * The local folder of finished run `runId`, read through the artifact store (`artifacts.url`): the
 * run's folder in `<home>/runs` itself when that is the store (the default; nothing copied), else
 * the run fetched from the store into `<home>/cache` (content-hash cache, checked bytes, retried;
 * docs/artifacts.md). A run the store does not hold whole is DeepcutError('not_found').
 * @example const dir = await runFolder(config, '20261206T030000Z-1')
 */
export async function runFolder(where: RunHome, runId: string, o: FetchOptions = {}): Promise<string> {
  const home = typeof where === 'string' ? where : where.home;
  const store = await openArtifactStore(typeof where === 'string' ? runsDir(home) : artifactsUrl(where));
  try {
    if (isRunsFolder(store, runsDir(home))) {
      await readManifest(home, runId);
      return join(runsDir(home), runId);
    }
    return (await fetchRun(store, runId, join(home, 'cache'), o)).dir;
  } finally {
    await store.close();
  }
}

/** The published run of `where` (its PUBLISHED.json mirror), or run `opts.runId`, through the artifact store ({@link runFolder}). */
export async function openPublished(where: RunHome, opts: { threads?: number; runId?: string } = {}): Promise<PublishedRun> {
  const home = typeof where === 'string' ? where : where.home;
  const runId = opts.runId ?? (await readPublished(home))?.runId;
  if (!runId) throw new DeepcutError('unavailable', 'no published run yet: run `deepcut pipeline run` first');
  return openRunAt(await runFolder(where, runId), runId, opts);
}

/** Run `runId` from its folder `dir` on this machine (wherever it was fetched to). */
export async function openRunAt(dir: string, runId: string, opts: { threads?: number } = {}): Promise<PublishedRun> {
  if (!existsSync(join(dir, 'run.json'))) throw new DeepcutError('not_found', `no pipeline run ${runId} (looked for ${join(dir, 'run.json')})`);
  const snapshot = await loadSnapshot(join(dir, 'signals'));
  const model = await rankedModelOf(runDirsOf(dir), snapshot, await loadCfModel(join(dir, 'cf'), snapshot, opts.threads ?? 1, { runId }), runId);
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

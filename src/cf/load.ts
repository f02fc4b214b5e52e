/**
 * The CF family's loader: a run's CF model from the cf step's folder, for serving, the playlists
 * step and the CLI. It imports the models only (no pipeline, no training code of other families),
 * so a serving process can load a run quickly.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Csr } from '../signals/index.ts';
import type { Recommender } from './recommender.ts';
import { AlternatingLeastSquares } from './als.ts';
import { PopularityRecommender } from './popularity.ts';
import { partPath, ProductionRecommender, type ProductionSpec } from './production.ts';
import { ItemKnnRecommender } from './itemknn.ts';

/** The production model's file in a run's cf folder (beside `als.bin`) when another family ranks or the dial is on. */
export const PRODUCTION_FILE = 'production.bin';

/** What a run's CF model is checked against: the matrix it was fitted on (users × tracks), and the run. */
export interface CfModelInputs {
  /** The run's confidence matrix; popularity is refitted from it when the run trained no ALS. */
  userTracks: Csr;
}

/**
 * The CF model of a run from `<run>/cf/`: the production model of `production.bin` when the run
 * chose another family to rank, a decay or the long-tail dial; else ALS from `als.bin` (checked
 * against the matrix's users and tracks, and `runId` when given: a mismatch is `invalid_input`
 * naming it), else popularity fitted on `fitted.userTracks`. `threads` sizes ALS's fold-in pool.
 * @example const model = await loadCfModel(join(runDir, 'cf'), snapshot, 1, { runId })
 */
export async function loadCfModel(dir: string, fitted: CfModelInputs, threads: number, o: { runId?: string } = {}): Promise<Recommender> {
  const file = join(dir, 'als.bin');
  const expect = expectOf(fitted, o);
  const production = join(dir, PRODUCTION_FILE);
  if (existsSync(production)) return ProductionRecommender.load(production, expect, threads);
  if (existsSync(file)) return AlternatingLeastSquares.load(file, expect, { threads });
  const pop = new PopularityRecommender();
  await pop.fit(fitted.userTracks);
  return pop;
}

/**
 * The run's factor space alone (ALS: `als.bin`, or the production model's `production.factors.bin`),
 * for steps that read only item factors (the text step's cold-start map, the audio CNN's targets):
 * the production model's other parts (its matrices, ranking model and tail source, hundreds of MB
 * on a large world) are not read. Undefined when the run trained no ALS (popularity).
 * @example const als = await loadCfFactors(join(runDir, 'cf'), snapshot, 1)
 */
export async function loadCfFactors(dir: string, fitted: CfModelInputs, threads: number, o: { runId?: string } = {}): Promise<AlternatingLeastSquares | undefined> {
  const expect = expectOf(fitted, o);
  if (existsSync(join(dir, PRODUCTION_FILE))) return AlternatingLeastSquares.load(partPath(join(dir, PRODUCTION_FILE), 'factors'), expect, { threads });
  const file = join(dir, 'als.bin');
  return existsSync(file) ? AlternatingLeastSquares.load(file, expect, { threads }) : undefined;
}

/**
 * The production model's item-kNN tail source (`production.tail.bin`) when it was fitted on the
 * run's matrix itself: the dial on (`spec.tailSource`) and nothing decayed, so it is item-kNN
 * (cosine, `TAIL_SOURCE_NEIGHBOURS`) on the run's confidences, and a step that needs that very
 * model reads it instead of fitting it again. Undefined otherwise. `spec`: the cf step's choice
 * (its output's `info.spec`).
 */
export async function loadUndecayedTailSource(dir: string, spec: Partial<ProductionSpec> | undefined): Promise<ItemKnnRecommender | undefined> {
  const tail = partPath(join(dir, PRODUCTION_FILE), 'tail');
  return spec?.tailSource === 'itemknn' && spec.halfLifeDays === 0 && existsSync(tail) ? ItemKnnRecommender.load(tail) : undefined;
}

/** What a stored model must have been fitted on: the run's matrix's users and tracks, and the run when given. */
function expectOf(fitted: CfModelInputs, o: { runId?: string }): { users: number; items: number; runId?: string } {
  return { users: fitted.userTracks.rows, items: fitted.userTracks.cols, ...(o.runId ? { runId: o.runId } : {}) };
}

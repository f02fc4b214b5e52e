/**
 * The home bandit's files in a run's `bandit/` folder, written by the pipeline's bandit step and
 * read by serving: `reward-model.json` (the model serving orders shelves with) and `evidence.json`
 * (the impression logs' evidence at that run, evidence.ts). A model trained on another feature
 * layout (a run of an older version) is not used: serving falls back to uniform shelves until the
 * next run trains one on {@link SHELF_FEATURES}.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HomeEvidence } from './evidence.ts';
import { loadRewardModel } from './models.ts';
import type { RewardModel } from './reward.ts';
import { SHELF_FEATURES } from './shelves.ts';

export const REWARD_MODEL_FILE = 'reward-model.json';
export const EVIDENCE_FILE = 'evidence.json';

export interface HomeBanditFiles {
  model?: RewardModel;
  evidence?: HomeEvidence;
  /** Why a model file present was not used. */
  skipped?: string;
}

/** Read the bandit files of `dir` (a run's `bandit/` folder); absent files give undefined. */
export async function readHomeBandit(dir: string): Promise<HomeBanditFiles> {
  const out: HomeBanditFiles = {};
  const mf = join(dir, REWARD_MODEL_FILE);
  if (existsSync(mf)) {
    const j = JSON.parse(await readFile(mf, 'utf8')) as { dim?: unknown };
    if (j.dim !== SHELF_FEATURES.length) out.skipped = `${mf}: the model has ${String(j.dim)} features, this version's shelves have ${SHELF_FEATURES.length} (trained by an older version); uniform shelves until the next run`;
    else out.model = loadRewardModel(j);
  }
  const ef = join(dir, EVIDENCE_FILE);
  if (existsSync(ef)) out.evidence = HomeEvidence.fromJSON(JSON.parse(await readFile(ef, 'utf8')), ef);
  return out;
}

/**
 * The pipeline's bandit step: counterfactual retraining of the home page's reward model from the
 * impression logs, and the off-policy promotion gate.
 *
 *   the impression log's closed files (written by serving) → loaded into the store (impression-log.ts)
 *   logs (last `WINDOW_DAYS` of impressions ⋈ the home-card streams they started, src/bandit/train.ts)
 *     → BART fitted with inverse-propensity weights (policy.ts `trainingSet`)
 *     → SNIPS value of the candidate policy (Thompson sampling over it) and of the live one (the
 *       published run's model, or uniform random when there is none) on the same logs
 *     → `gate`: the candidate goes live only if the lower end of its interval beats the live value.
 *
 * Artifacts in `<run>/bandit/`: `reward-model.json` (the model serving will use: the candidate
 * when promoted, else the live one carried over; absent while nothing has been learnt),
 * `evidence.json` (the window's evidence features, src/bandit/evidence.ts, which serving looks up
 * per request until the next run) and `report.json` (both estimates, the verdict and its reason). With too few logged requests the
 * step succeeds without training and says so.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Step } from './runner.ts';
import { currentPublication } from './runner.ts';
import { runFolder } from './published.ts';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/index.ts';
import { isDeepcutError } from '../errors.ts';
import { EVIDENCE_FILE, homeEvidence, homeLogs, opeRows, PRODUCTION_BART, readHomeBandit, toChoices } from '../bandit/index.ts';
import { SHELF_FEATURES } from '../bandit/index.ts';
import { makeRewardModel } from '../bandit/index.ts';
import { policyFor, trainingSet } from '../bandit/index.ts';
import { snips, gate, type Estimate } from '../bandit/index.ts';
import type { RewardModel } from '../bandit/index.ts';
import { Rng } from '../util/rng.ts';
import { DAY_MS } from '../core/clock.ts';
import { impressionLogDir, loadImpressionLogs } from '../bandit/index.ts';

/** Days of impressions the reward model is trained on. */
export const WINDOW_DAYS = 28;
/** Fewest logged home requests before a model is trained. */
export const MIN_REQUESTS = 200;

/** The reward model the published run serves with, or undefined. */
async function liveModel(store: Store, config: Config): Promise<RewardModel | undefined> {
  const p = await currentPublication(store, config.home);
  if (!p) return undefined;
  const dir = await runFolder(config, p.runId).catch((e: unknown) => (isDeepcutError(e) && e.code === 'not_found' ? undefined : Promise.reject(e)));
  if (!dir) return undefined;
  return (await readHomeBandit(join(dir, 'bandit'))).model;
}

export const banditStep: Step = {
  name: 'bandit',
  after: ['validate'],
  async run(ctx) {
    const loaded = await loadImpressionLogs(ctx.store, impressionLogDir(ctx.config.home));
    const until = ctx.clock.now();
    const since = new Date(until.getTime() - WINDOW_DAYS * DAY_MS);
    const logs = await homeLogs(ctx.store, { since, until, signals: ctx.config.signals });
    // the evidence features serving computes until the next run: every page of the window
    if (logs.length) await writeFile(join(ctx.dir, EVIDENCE_FILE), JSON.stringify(homeEvidence(logs).toJSON()));
    const live = await liveModel(ctx.store, ctx.config);
    const carry = async (reason: string, extra: Record<string, number> = {}) => {
      if (live) await writeFile(join(ctx.dir, 'reward-model.json'), JSON.stringify(live.toJSON()));
      await writeFile(join(ctx.dir, 'report.json'), JSON.stringify({ requests: logs.length, promoted: false, reason }, null, 2));
      return { metrics: { logged_requests: logs.length, impressions_loaded: loaded.inserted, promoted: 0, ...extra }, info: { reason } };
    };
    if (logs.length < MIN_REQUESTS) return carry(`${logs.length} logged home requests in the last ${WINDOW_DAYS} days; at least ${MIN_REQUESTS} are needed to train`);
    const rng = new Rng(ctx.config.cf.seed);
    const data = trainingSet(toChoices(logs), SHELF_FEATURES.length);
    const model = makeRewardModel(PRODUCTION_BART);
    model.fit(data, rng);
    const epsilon = ctx.config.bandit.epsilon;
    const candidate = policyFor(model, { epsilon });
    const current = policyFor(live, { epsilon });
    const c: Estimate = snips(opeRows(logs, candidate, new Rng(ctx.config.cf.seed + 1)));
    const l: Estimate = snips(opeRows(logs, current, new Rng(ctx.config.cf.seed + 1)));
    const verdict = gate(c, l);
    const figures = { candidate_value: c.value, candidate_lo: c.lo, candidate_hi: c.hi, live_value: l.value, live_lo: l.lo, live_hi: l.hi, training_rows: data.n };
    if (!verdict.promote) return carry(verdict.reason, figures);
    await writeFile(join(ctx.dir, 'reward-model.json'), JSON.stringify(model.toJSON()));
    await writeFile(join(ctx.dir, 'report.json'), JSON.stringify({ requests: logs.length, promoted: true, reason: verdict.reason, ...figures }, null, 2));
    return { metrics: { logged_requests: logs.length, impressions_loaded: loaded.inserted, promoted: 1, ...figures }, info: { reason: verdict.reason } };
  },
};

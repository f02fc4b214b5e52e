/**
 * `bandit-sim`: the home-page bandit in the simulator (src/bandit/simulator.ts), where the demo
 * world's hidden tastes answer impressions, so learning and off-policy estimates can be checked
 * against the truth. Needs no data folder.
 *
 * 1. Learning: uniform random, ε-greedy over logistic regression (ε = 0.1 and 0.03) and over boosted
 *    trees, Thompson sampling over a bootstrap ensemble of logistic regressions and over BART, and
 *    the oracle serve the same requests for N simulated days, each model retrained at day end from
 *    its own logs (IPS-weighted). Cumulative reward (streams ≥ 30 s),
 *    expected reward and regret against the oracle per policy; the curves as SVG charts under the
 *    OS temp folder (path in the notes).
 * 2. Off-policy evaluation: fixed policies are fitted on uniform logs; for several seeds, one policy
 *    logs fresh requests and IPS, SNIPS and DR estimate another's value with 95 % intervals; the
 *    coverage rate is the share of checks whose interval holds the simulator's true value.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalReport, EvalSuite, EvalTable } from '../suite.ts';
import { lineChartSvg } from '../chart.ts';
import { Rng } from '../../util/rng.ts';
import { log } from '../../log.ts';
import { Bart, PRODUCTION_BART } from '../../bandit/index.ts';
import { BootstrapEnsemble, GradientBoostedTrees, LogisticRegression } from '../../bandit/index.ts';
import { EpsilonGreedyPolicy, ThompsonPolicy, UniformPolicy, trainingSet, type Policy } from '../../bandit/index.ts';
import { HomeWorld, collectLogs, opeCheck, simulate, type Arm } from '../../bandit/index.ts';

const r3 = (v: number) => Number(v.toFixed(3));
/** Logged cards each model is refitted on daily (the most recent), full run. */
const MAX_ROWS = 24_000;

export const banditSim: EvalSuite = {
  name: 'bandit-sim',
  description: 'home-page bandit in the demo-world simulator: cumulative reward/regret of random, ε-greedy (LR, GBT), Thompson (bootstrap LR, BART) vs the oracle; IPS/SNIPS/DR coverage of true values',
  needs: [],
  async run(ctx): Promise<EvalReport> {
    const q = ctx.quick;
    const c = q
      ? { users: 150, tracks: 1000, listensPerUser: 50, days: 4, requests: 200, slots: 6, opeSeeds: 3, opeRequests: 800, bart: { trees: 20, burn: 40, draws: 20, thin: 1 }, maxRows: 12000, warmDays: 2 }
      : { users: 300, tracks: 2000, listensPerUser: 60, days: 21, requests: 400, slots: 6, opeSeeds: 20, opeRequests: 1000, bart: PRODUCTION_BART, maxRows: MAX_ROWS, warmDays: 7 };
    const training = { clip: 20, maxRows: c.maxRows };
    const epsilon = 0.1;
    const lowEpsilon = 0.03;
    const lg = log('eval:bandit-sim');
    const t0 = performance.now();
    const world = new HomeWorld({ seed: ctx.seed, users: c.users, tracks: c.tracks, listensPerUser: c.listensPerUser });
    const arms: (Arm & { key: string })[] = [
      { key: 'uniform', name: 'uniform random', policy: new UniformPolicy() },
      { key: 'egreedy_logistic', name: `ε-greedy (ε=${epsilon}) + logistic`, policy: new EpsilonGreedyPolicy(new LogisticRegression(), { epsilon }) },
      { key: 'egreedy_low_logistic', name: `ε-greedy (ε=${lowEpsilon}) + logistic`, policy: new EpsilonGreedyPolicy(new LogisticRegression(), { epsilon: lowEpsilon }) },
      { key: 'egreedy_gbt', name: `ε-greedy (ε=${epsilon}) + GBT`, policy: new EpsilonGreedyPolicy(new GradientBoostedTrees({ rounds: 30 }), { epsilon }) },
      { key: 'thompson_bootstrap_logistic', name: 'Thompson + bootstrap logistic', policy: new ThompsonPolicy(new BootstrapEnsemble({ member: { kind: 'logistic' }, members: 5 }), { samples: 32 }) },
      { key: 'thompson_bart', name: 'Thompson + BART', policy: new ThompsonPolicy(new Bart(c.bart), { samples: 32 }) },
    ];
    const sim = simulate(world, arms, {
      days: c.days,
      requestsPerDay: c.requests,
      slots: c.slots,
      seed: ctx.seed,
      training,
      onDay: (day, arm, s) => lg.info({ day, arm, seconds: Number(s.toFixed(2)) }, 'simulated day'),
    });
    // The same policy after a previous deployment: 7 days of Thompson + BART on another demo world
    // (other listeners, other catalog, same generator), whose logs it starts from on day 0 and keeps
    // training on until its own push them out; production's day 0 is yesterday's model, not a uniform page.
    const priorWorld = new HomeWorld({ seed: ctx.seed + 1000, users: c.users, tracks: c.tracks, listensPerUser: c.listensPerUser });
    const prior = simulate(priorWorld, [{ name: 'previous deployment', policy: new ThompsonPolicy(new Bart(c.bart), { samples: 32 }) }], { days: c.warmDays, requestsPerDay: c.requests, slots: c.slots, seed: ctx.seed + 1000, training });
    const warmName = `Thompson + BART, warm start (${c.warmDays} days of a previous deployment)`;
    const warm = simulate(world, [{ name: warmName, policy: new ThompsonPolicy(new Bart(c.bart), { samples: 32 }) }], {
      days: c.days,
      requestsPerDay: c.requests,
      slots: c.slots,
      seed: ctx.seed,
      training,
      warm: prior.logs[0],
      onDay: (day, arm, s) => lg.info({ day, arm, seconds: Number(s.toFixed(2)) }, 'simulated day'),
    });
    sim.arms.push(warm.arms[0]);
    arms.push({ key: 'thompson_bart_warm', name: warmName, policy: new UniformPolicy() });
    const simS = (performance.now() - t0) / 1000;
    const D = c.days;
    const oracleE = sim.oracle.cumExpected[D - 1];
    const requests = D * c.requests;
    const learning: EvalTable = {
      title: `cumulative over ${D} simulated days × ${c.requests} home requests × ${c.slots} slots (${c.users} listeners, ${c.tracks} tracks, seed ${ctx.seed})`,
      columns: ['policy', 'streams', 'expected streams', 'regret', '% of oracle', 'last-day % of oracle', 'fit s', 'choose ms/request'],
      rows: [],
    };
    const lastDay = (cum: number[]) => cum[D - 1] - (D > 1 ? cum[D - 2] : 0);
    for (const a of sim.arms) {
      learning.rows.push([a.name, a.cumReward[D - 1], r3(a.cumExpected[D - 1]), r3(a.cumRegret[D - 1]), r3((100 * a.cumExpected[D - 1]) / oracleE), r3((100 * lastDay(a.cumExpected)) / lastDay(sim.oracle.cumExpected)), r3(a.fitS), r3((1000 * a.chooseS) / requests)]);
    }
    learning.rows.push(['oracle (knows the true probabilities)', sim.oracle.cumReward[D - 1], r3(oracleE), 0, 100, 100, null, null]);

    // Where the gap to the oracle goes, in points of the oracle's expected streams over the run
    const gap: EvalTable = {
      title: 'where the gap to the oracle goes (points of the oracle\'s expected streams over the run; they add up to 100 − % of oracle)',
      columns: ['policy', '% of oracle', 'day 0 (no model yet)', 'exploration (mean slate − shown)', 'order (same cards, true order − model order)', 'selection (oracle − best order of the model\'s cards)', 'last day: exploration', 'last day: order', 'last day: selection'],
      rows: [],
    };
    const o0 = sim.oracle.cumExpected[0];
    for (const a of sim.arms) {
      if (a.cumGreedy.length !== D) continue;
      const pt = (x: number, of = oracleE) => r3((100 * x) / of);
      const c0 = a.cumExpected[0];
      const last = (cum: number[]) => lastDay(cum);
      const oLast = lastDay(sim.oracle.cumExpected);
      gap.rows.push([
        a.name,
        pt(a.cumExpected[D - 1]),
        pt(o0 - c0),
        pt(a.cumGreedy[D - 1] - a.cumGreedy[0] - (a.cumExpected[D - 1] - c0)),
        pt(a.cumGreedySorted[D - 1] - a.cumGreedySorted[0] - (a.cumGreedy[D - 1] - a.cumGreedy[0])),
        pt(oracleE - o0 - (a.cumGreedySorted[D - 1] - a.cumGreedySorted[0])),
        pt(last(a.cumGreedy) - last(a.cumExpected), oLast),
        pt(last(a.cumGreedySorted) - last(a.cumGreedy), oLast),
        pt(oLast - last(a.cumGreedySorted), oLast),
      ]);
    }

    const outDir = join(tmpdir(), 'deepcut-eval');
    mkdirSync(outDir, { recursive: true });
    const svgPath = join(outDir, `bandit-sim-${ctx.seed}${q ? '-quick' : ''}.svg`);
    const days = Array.from({ length: D + 1 }, (_, d) => d);
    const from0 = (xs: number[]) => [0, ...xs];
    writeFileSync(
      svgPath,
      lineChartSvg({
        title: `Home-page bandit: cumulative streams ≥ 30 s (expected), ${c.requests} requests/day`,
        xLabel: 'simulated day',
        yLabel: 'cumulative expected streams',
        x: days,
        series: [...sim.arms.map((a) => ({ name: a.name, y: from0(a.cumExpected) })), { name: 'oracle', y: from0(sim.oracle.cumExpected), dashed: true }],
      }),
    );

    const regretPath = svgPath.replace(/\.svg$/, '-regret.svg');
    writeFileSync(
      regretPath,
      lineChartSvg({
        title: 'Home-page bandit: cumulative regret against the oracle (expected streams)',
        xLabel: 'simulated day',
        yLabel: 'cumulative regret',
        x: days,
        series: sim.arms.map((a) => ({ name: a.name, y: from0(a.cumRegret) })),
      }),
    );

    // ---- OPE: fixed policies fitted on uniform logs, then log-with-one, estimate-another
    const t1 = performance.now();
    const trainLogs = collectLogs(world, new UniformPolicy(), { day: 1000, from: 0, n: q ? 600 : 1500, slots: c.slots, seed: ctx.seed });
    const train = trainingSet(trainLogs, world.dim);
    const lr = new LogisticRegression();
    lr.fit(train, new Rng(ctx.seed));
    const gbt = new GradientBoostedTrees({ rounds: 40 });
    gbt.fit(train, new Rng(ctx.seed));
    const bart = new Bart(c.bart);
    bart.fit(train, new Rng(ctx.seed));
    const pairs: { name: string; logging: Policy; target: Policy }[] = [
      { name: 'uniform → Thompson+BART', logging: new UniformPolicy(), target: new ThompsonPolicy(bart, { samples: 16 }) },
      { name: 'ε-greedy(0.3)+LR → ε-greedy(0.1)+GBT', logging: new EpsilonGreedyPolicy(lr, { epsilon: 0.3 }), target: new EpsilonGreedyPolicy(gbt, { epsilon: 0.1 }) },
    ];
    const ope: EvalTable = {
      title: `off-policy estimates vs the simulator's true value: ${c.opeSeeds} seeds × ${c.opeRequests} logged requests, 95 % intervals (DR/DM use the logistic model)`,
      columns: ['logging → target', 'estimator', 'mean estimate', 'mean truth', 'mean |error|', 'mean CI width', 'coverage'],
      rows: [],
    };
    let covered = 0, checks = 0;
    const perEst = new Map<string, { covered: number; n: number }>();
    for (const p of pairs) {
      const acc = new Map<string, { est: number; err: number; width: number; cov: number }>();
      let truth = 0;
      for (let s = 0; s < c.opeSeeds; s++) {
        const chk = opeCheck(world, p.logging, p.target, lr, { day: 2000 + s, n: c.opeRequests, slots: c.slots, seed: ctx.seed * 1000 + s });
        truth += chk.truth;
        for (const e of chk.estimates) {
          const a = acc.get(e.estimator) ?? { est: 0, err: 0, width: 0, cov: 0 };
          const hit = e.lo <= chk.truth && chk.truth <= e.hi;
          a.est += e.value;
          a.err += Math.abs(e.value - chk.truth);
          a.width += e.hi - e.lo;
          a.cov += +hit;
          acc.set(e.estimator, a);
          if (e.estimator !== 'dm') {
            covered += +hit;
            checks++;
            const pe = perEst.get(e.estimator) ?? { covered: 0, n: 0 };
            pe.covered += +hit;
            pe.n++;
            perEst.set(e.estimator, pe);
          }
        }
      }
      for (const [est, a] of acc) ope.rows.push([p.name, est + (est === 'dm' ? ' (model only, not counted)' : ''), r3(a.est / c.opeSeeds), r3(truth / c.opeSeeds), r3(a.err / c.opeSeeds), r3(a.width / c.opeSeeds), r3(a.cov / c.opeSeeds)]);
    }
    const opeS = (performance.now() - t1) / 1000;

    const metrics: Record<string, number | string> = {
      days: D,
      requests_per_day: c.requests,
      slots: c.slots,
      epsilon,
      oracle_expected_streams: r3(oracleE),
      ope_coverage: r3(covered / checks),
      ope_checks: checks,
      sim_s: r3(simS),
      ope_s: r3(opeS),
    };
    sim.arms.forEach((a, i) => {
      const key = arms[i].key;
      metrics[`${key}_streams`] = a.cumReward[D - 1];
      metrics[`${key}_expected_streams`] = r3(a.cumExpected[D - 1]);
      metrics[`${key}_regret`] = r3(a.cumRegret[D - 1]);
      metrics[`${key}_share_of_oracle`] = r3(a.cumExpected[D - 1] / oracleE);
    });
    for (const [est, pe] of perEst) metrics[`ope_coverage_${est}`] = r3(pe.covered / pe.n);
    return {
      metrics,
      tables: [learning, gap, ope],
      notes: [
        `cumulative reward curves (SVG): ${svgPath}`,
        `cumulative regret curves (SVG): ${regretPath}`,
        `OPE coverage ${covered}/${checks} = ${r3(covered / checks)} (target ≥ 0.9); each check's truth is Σ_s Σ_a π(a, s | x) e(s) p(a | x) over the logged requests, with the marginals the estimators used`,
        'regret and the chart use expected rewards (true probabilities of the shown cards), streams are the realized coin flips; all policies see the same requests and coins',
      ],
    };
  },
};

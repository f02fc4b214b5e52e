import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { banditSim } from './bandit-sim.ts';

test('bandit-sim (quick): learning table with the oracle on top, OPE coverage, a chart on disk', async () => {
  const r = await banditSim.run({ dataDir: '/nonexistent', seed: 5, threads: 1, quick: true });
  const [learning, gap, ope] = r.tables;
  assert.deepEqual(learning.rows.map((row) => row[0]), ['uniform random', 'ε-greedy (ε=0.1) + logistic', 'ε-greedy (ε=0.03) + logistic', 'ε-greedy (ε=0.1) + GBT', 'Thompson + bootstrap logistic', 'Thompson + BART', 'Thompson + BART, warm start (2 days of a previous deployment)', 'oracle (knows the true probabilities)']);
  const oracle = r.metrics.oracle_expected_streams as number;
  for (const k of ['uniform', 'egreedy_logistic', 'egreedy_low_logistic', 'egreedy_gbt', 'thompson_bootstrap_logistic', 'thompson_bart', 'thompson_bart_warm']) assert.ok((r.metrics[`${k}_expected_streams`] as number) <= oracle);
  assert.ok((r.metrics.thompson_bart_expected_streams as number) > (r.metrics.uniform_expected_streams as number));
  // the gap table: every model-based policy, parts adding up to 100 − its share of the oracle
  assert.deepEqual(gap.rows.map((row) => row[0]), learning.rows.slice(1, 7).map((row) => row[0]));
  for (const row of gap.rows) {
    const [share, ...parts] = (row.slice(1, 6) as number[]);
    assert.ok(Math.abs(share + parts.reduce((a, b) => a + b, 0) - 100) < 0.01, `${row[0]}: ${row.join(' ')}`);
    assert.ok(parts[2] >= -1e-9 && parts[3] >= -1e-9, 'the true order of the model\'s cards is at least as good as the model\'s, and the oracle at least as good as both');
  }
  assert.equal(ope.rows.length, 8);
  assert.equal(r.metrics.ope_checks, 18);
  assert.ok((r.metrics.ope_coverage as number) >= 0 && (r.metrics.ope_coverage as number) <= 1);
  const svg = r.notes![0].replace(/^cumulative reward curves \(SVG\): /, '');
  assert.ok(existsSync(svg), svg);
  assert.match(readFileSync(svg, 'utf8'), /<polyline /);
});

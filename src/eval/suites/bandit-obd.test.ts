import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Rng } from '../../util/rng.ts';
import { banditObd, OBD_DIR } from './bandit-obd.ts';
import { readObd } from '../obd.ts';

const ITEMS = 6;
/** Click probability of item a at position k: item 0 is by far the best, position 0 the most seen. */
const ctr = (a: number, k: number) => (a === 0 ? 0.45 : 0.04) / (1 + 0.5 * k);
/** The "bts" policy of the fixture: a fixed action distribution (item 0 first most of the time). */
const BTS = [
  [0.7, 0.1, 0.1],
  [0.06, 0.3, 0.2],
  [0.06, 0.2, 0.2],
  [0.06, 0.2, 0.2],
  [0.06, 0.1, 0.15],
  [0.06, 0.1, 0.15],
];

/** A small tree in the Open Bandit Dataset's layout, with a known truth for every policy. */
export function obdFixture(rows: number, seed: number): { dir: string; truth: Record<string, number> } {
  const root = mkdtempSync(join(tmpdir(), 'deepcut-obd-'));
  const dir = join(root, OBD_DIR);
  const rng = new Rng(seed);
  const head = [',timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3', ...Array.from({ length: ITEMS }, (_, a) => `user-item_affinity_${a}`)].join(',');
  const truth: Record<string, number> = { random: 0, bts: 0 };
  for (let a = 0; a < ITEMS; a++) for (let k = 0; k < 3; k++) {
    truth.random += ctr(a, k) / ITEMS / 3;
    truth.bts += (BTS[a][k] * ctr(a, k)) / 3;
  }
  for (const campaign of ['men', 'women']) {
    for (const policy of ['random', 'bts']) {
      const lines = [head];
      for (let i = 0; i < rows; i++) {
        const k = i % 3;
        let a: number;
        if (policy === 'random') a = rng.int(ITEMS);
        else {
          let u = rng.next();
          a = 0;
          while (a < ITEMS - 1 && u >= BTS[a][k]) u -= BTS[a++][k];
        }
        const p = policy === 'random' ? 1 / ITEMS : BTS[a][k];
        const ts = new Date(Date.UTC(2019, 10, 24) + i * 60_000).toISOString().replace('T', ' ').replace('Z', '+00:00');
        const uf = [`u${rng.int(3)}`, `v${rng.int(2)}`, 'w', 'z'];
        const aff = Array.from({ length: ITEMS }, () => (rng.next() < 0.05 ? 1 : 0));
        lines.push([i, ts, a, k + 1, +(rng.next() < ctr(a, k)), p, ...uf, ...aff].join(','));
      }
      const folder = join(dir, policy, campaign);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, `${campaign}.csv.gz`), gzipSync(lines.join('\n') + '\n'));
      writeFileSync(join(folder, 'item_context.csv'), [',item_id,item_feature_0,item_feature_1', ...Array.from({ length: ITEMS }, (_, a) => `${a},${a},${a / 10},${a % 2 ? 'odd' : 'even'}`)].join('\n') + '\n');
    }
    writeFileSync(join(dir, `bts-action-dist-${campaign}.csv`), ['action,pos0,pos1,pos2', ...BTS.map((r, a) => `${a},${r.join(',')}`)].join('\n') + '\n');
  }
  return { dir: root, truth };
}

test('readObd: rows sorted by time, positions from 0, item features label-encoded', async () => {
  const { dir } = obdFixture(30, 1);
  const log = await readObd(join(dir, OBD_DIR), 'random', 'men');
  assert.equal(log.n, 30);
  assert.equal(log.nItems, ITEMS);
  assert.equal(log.len, 3);
  assert.deepEqual([...log.position.slice(0, 4)], [0, 1, 2, 0]);
  assert.ok(log.time.every((t, i) => i === 0 || t >= log.time[i - 1]));
  assert.ok(log.pscore.every((p) => Math.abs(p - 1 / ITEMS) < 1e-12));
  assert.deepEqual(log.itemVocab, [2]);
});

test('bandit-obd (quick) on a fixture with a known truth: both directions, every estimator, IPS/SNIPS/DR intervals cover the truth', async () => {
  const { dir, truth } = obdFixture(1500, 7);
  const r = await banditObd.run({ dataDir: dir, seed: 3, threads: 1, quick: true });
  const [ope] = r.tables;
  assert.equal(ope.rows.length, 2 * 3 * 8, 'men, women × 3 directions × IPS, SNIPS, DM and DR for 3 models');
  // the on-policy truth of each file is near the fixture's own truth
  assert.ok(Math.abs((r.metrics.men_uniform_from_bts_truth as number) - truth.random) < 0.02);
  assert.ok(Math.abs((r.metrics.men_bts_from_random_truth as number) - truth.bts) < 0.03);
  // the fixture's bts is twice as good as uniform: the estimates from random logs say so
  for (const c of ['men', 'women']) {
    assert.ok((r.metrics[`${c}_bts_from_random_snips_estimate`] as number) > truth.random * 1.3, c);
    assert.ok((r.metrics[`${c}_uniform_from_bts_ips_estimate`] as number) < truth.bts * 0.8, c);
    assert.ok((r.metrics[`${c}_action_dist_tv`] as number) < 0.1, 'the logs follow the action distribution file');
  }
  assert.equal(r.metrics.ope_checks, 2 * 3 * 5);
  assert.ok((r.metrics.ope_covered as number) >= 27, `${r.metrics.ope_covered} of 30 intervals cover the truth`);

  // off-policy learning: random, bts, then greedy and Thompson for each of the three models
  const opl = r.tables[1];
  assert.deepEqual(opl.rows.filter((x) => x[0] === 'men').map((x) => String(x[1]).split(' ')[0]), ['random', 'bts', 'greedy:logistic', 'thompson:bootstrap-logistic', 'greedy:gbt', 'thompson:bootstrap-gbt', 'greedy:bart', 'thompson:bart']);
  // item 0 is five to eleven times as good as any other: the greedy logistic policy learns to put it first and beats random with confidence
  for (const c of ['men', 'women']) {
    assert.ok((r.metrics[`${c}_opl_greedy_logistic_snips`] as number) > (r.metrics[`${c}_opl_random_snips`] as number) * 1.3, c);
    assert.equal(r.metrics[`${c}_opl_greedy_logistic_promote_vs_random`], 1, c);
  }
  // the gate's rule, row by row: PROMOTE exactly when the SNIPS lower bound is above the live SNIPS estimate
  for (const row of opl.rows.filter((x) => /^(greedy|thompson):/.test(String(x[1])))) {
    const c = row[0] as string;
    const lo = row[3] as number;
    assert.equal(row[8] === 'PROMOTE', lo > (r.metrics[`${c}_opl_random_snips`] as number), String(row[1]));
    assert.equal(row[9] === 'PROMOTE', lo > (r.metrics[`${c}_opl_bts_snips`] as number), String(row[1]));
  }
});

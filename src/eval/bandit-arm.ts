/**
 * One arm of `eval bandit-sim` on its own, to see how much a change moves Thompson + BART against
 * the noise of the arm's own random draws: the suite's world, days, requests and reward coins
 * (seed `seed`), one Thompson + BART arm whose generator is the suite's (`arm=-1`: the cold arm's,
 * hash32(seed, 0x9011, 5)) or another (`arm=k`), cold or warm-started as the suite's warm row.
 * Prints one JSON line: share of the oracle's expected streams over the run, per day, CPU seconds.
 *
 *   node --import tsx src/eval/bandit-arm.ts seed=42 arm=1 warm=1
 *   node --import tsx src/eval/bandit-arm.ts arm=2 sim='{"positionModel":true}' bart='{"k":3}' train='{"maxRows":48000}'
 *   node --import tsx src/eval/bandit-arm.ts arm=1 warm=1 drop=repeat_rate,recent_genre_share
 *
 * `drop=` sets the named features (simulator.ts FEATURES) to 0 in every request of both worlds: a
 * constant column has no split, so the trees run as without it.
 */
import { Rng } from '../util/rng.ts';
import { hash32 } from '../generate/index.ts';
import { Bart, FEATURES, HomeWorld, PRODUCTION_BART, simulate, ThompsonPolicy, type Policy } from '../bandit/index.ts';
import { cpuSeconds } from '../util/cpu.ts';

const args = Object.fromEntries(process.argv.slice(2).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
const json = (k: string) => (args[k] ? JSON.parse(args[k]) : {});
const seed = Number(args.seed ?? 42), arm = Number(args.arm ?? -1), warmStart = args.warm === '1', days = Number(args.days ?? 21);
const c = { users: 300, tracks: 2000, listensPerUser: 60, requests: 400, slots: 6 };
const training = { clip: 20, maxRows: 24_000, ...json('train') };
const make = () => new ThompsonPolicy(new Bart({ ...PRODUCTION_BART, ...json('bart') }), { samples: 32 });
/** `p` with its own generator, whatever `simulate` passes (so the arm's draws do not depend on its index). */
function pinned(p: ThompsonPolicy, rng: Rng): Policy & { model: ThompsonPolicy['model'] } {
  return { name: p.name, model: p.model, choose: (d, k) => p.choose(d, k, rng), marginals: (d, k) => p.marginals(d, k, rng), fit: (data) => p.fit(data, rng) };
}

const dropped = (args.drop ? args.drop.split(',') : []).map((f) => {
  const i = FEATURES.indexOf(f as (typeof FEATURES)[number]);
  if (i < 0) throw new Error(`drop=${f}: not a feature`);
  return i;
});
if (dropped.length) {
  const request = HomeWorld.prototype.request;
  HomeWorld.prototype.request = function (this: HomeWorld, day: number, r: number) {
    const q = request.call(this, day, r);
    for (let a = 0; a < q.decision.n; a++) for (const f of dropped) q.decision.x[a * q.decision.dim + f] = 0;
    return q;
  };
}

const cpu0 = cpuSeconds();
const world = new HomeWorld({ seed, users: c.users, tracks: c.tracks, listensPerUser: c.listensPerUser });
let warm;
if (warmStart) {
  const prior = new HomeWorld({ seed: seed + 1000, users: c.users, tracks: c.tracks, listensPerUser: c.listensPerUser });
  warm = simulate(prior, [{ name: 'previous deployment', policy: make() }], { days: 7, requestsPerDay: c.requests, slots: c.slots, seed: seed + 1000, training }).logs[0];
}
const rng = new Rng(arm < 0 ? hash32(seed, 0x9011, 5) : hash32(seed, 0x9011, 5, arm));
const sim = simulate(world, [{ name: 'thompson:bart', policy: pinned(make(), rng) }], { days, requestsPerDay: c.requests, slots: c.slots, seed, training, warm, ...json('sim') });
const a = sim.arms[0], o = sim.oracle.cumExpected;
const daily = (cum: number[], d: number) => cum[d] - (d ? cum[d - 1] : 0);
const perDay = a.cumExpected.map((_, d) => Number(((100 * daily(a.cumExpected, d)) / daily(o, d)).toFixed(1)));
console.log(JSON.stringify({ seed, arm, warm: warmStart, share: Number(((100 * a.cumExpected[days - 1]) / o[days - 1]).toFixed(2)), perDay, cpuS: Number((cpuSeconds() - cpu0).toFixed(1)), ...args }));

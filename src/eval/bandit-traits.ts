/**
 * Diagnostic only (never a policy input): how well statistics of a listener's history estimate the
 * hidden traits that the simulator's truth uses (src/bandit/simulator.ts): taste kind (mainstream /
 * eclectic / niche: "Popular now", "Hidden gems"), replay rate ("Jump back in"), favourite artists
 * ("Because you listened to", P(like)) and genre weights at the clock (P(like)). Per listener:
 * Pearson correlation with the explanation's effect on the logit (Popular now: mainstream +1.2,
 * eclectic 0, niche −1.5; Hidden gems: −1.2, +0.3, +1.5) and with the replay rate; per card (the
 * candidates of the first 2,000 requests): AUC for "the artist is a favourite" and correlation with
 * G × the genre's weight.
 *
 *   node --import tsx src/eval/bandit-traits.ts seed=42
 */
import { HomeWorld } from '../bandit/index.ts';
import { GENRES } from '../generate/index.ts';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const seed = Number(args.seed ?? 42);
const world = new HomeWorld({ seed, users: 300, tracks: 2000, listensPerUser: 60 });

function corr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) (mx += x[i] / n), (my += y[i] / n);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) (sxy += (x[i] - mx) * (y[i] - my)), (sxx += (x[i] - mx) ** 2), (syy += (y[i] - my) ** 2);
  return sxy / Math.sqrt(sxx * syy || 1);
}
/** Area under the ROC curve of score `x` for binary label `y` (ties count half). */
function auc(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  let rank = 0, sumPos = 0, nPos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j < idx.length && x[idx[j]] === x[idx[i]]) j++;
    const r = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (y[idx[k]]) (sumPos += r), nPos++;
    rank = j;
    i = j;
  }
  const nNeg = rank - nPos;
  return (sumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg || 1);
}

const users = world.users;
const traits = world.traitFeatures();
const popEffect = users.map((u) => ({ mainstream: 1.2, eclectic: 0, niche: -1.5 })[u.taste.kind]);
const gemEffect = users.map((u) => ({ mainstream: -1.2, eclectic: 0.3, niche: 1.5 })[u.taste.kind]);
const replay = users.map((u) => u.taste.replay);
const out: Record<string, unknown> = { seed };
for (const [name, vals] of Object.entries(traits.listener)) {
  out[name] = { popular_now_effect: +corr(vals, popEffect).toFixed(3), hidden_gems_effect: +corr(vals, gemEffect).toFixed(3), replay: +corr(vals, replay).toFixed(3) };
}
// Card level: over the candidates of 2,000 requests.
const rows: { fav: number[]; genreW: number[]; f: Record<string, number[]> } = { fav: [], genreW: [], f: {} };
for (let r = 0; r < 2000; r++) {
  const q = world.request(Math.floor(r / 400), r % 400);
  const u = users[q.user];
  for (let a = 0; a < q.decision.n; a++) {
    const t = q.tracks[a];
    const artist = world.cat.trackArtist[t];
    rows.fav.push(+u.fav.has(artist));
    rows.genreW.push(u.genreW[world.cat.trackGenre[t]] * GENRES.length);
    for (const [name, fn] of Object.entries(traits.card)) (rows.f[name] ??= []).push(fn(q.user, t));
  }
}
for (const [name, vals] of Object.entries(rows.f)) out[name] = { favourite_auc: +auc(vals, rows.fav).toFixed(3), genre_weight: +corr(vals, rows.genreW).toFixed(3) };
for (const [k, v] of Object.entries(out)) console.log(`${k}\t${JSON.stringify(v)}`);

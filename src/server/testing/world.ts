/**
 * A tiny known-answer world for server tests and the web page test: two taste groups. Artist
 * `ra` has tracks a0..a4, artist `rb` has b0..b4; users u0..u3 play a0..a3, users u4..u7 play
 * b0..b3. With {@link FixedFactorModel} (a-tracks = [1,0], b-tracks = [0,1]) an a-listener's best
 * unheard track is a4, a b-listener's is b4.
 */
import type { Artist, Listen, Track } from '../../domain/schemas.ts';
import type { TrackId, UserId } from '../../domain/ids.ts';
import { defaultConfig, type Config } from '../../config/config.ts';
import { listenConfidence } from '../../signals/index.ts';
import { Catalog } from '../../serving/index.ts';
import { LiveModel } from '../../serving/index.ts';
import type { ServingState } from '../../serving/index.ts';
import type { Store } from '../../store/index.ts';
import type { Csr } from '../../signals/index.ts';
import type { Factorized, FoldIn, Ranked, Recommender, RecommendOptions } from '../../cf/index.ts';
import { excludeMask, topK } from '../../cf/index.ts';

export const artists: Artist[] = [
  { artist_id: 'ra', name: 'Radio Alpha', genres: ['ambient'] },
  { artist_id: 'rb', name: 'Rhythm Beta', genres: ['techno'] },
];
export const tracks: Track[] = ['a', 'b'].flatMap((g) =>
  [0, 1, 2, 3, 4].map((i) => ({ track_id: `${g}${i}`, title: `${g === 'a' ? 'Alpha' : 'Beta'} song ${i}`, artist_ids: [`r${g}`], duration_ms: 200_000, release_date: '2024-01-0' + (i + 1) })),
);

let seq = 0;
/** A full play (60 s) of `track` by `user` at minute `minute` of 2024-05-01. */
export function play(user: string, track: string, minute = 0, ms = 60_000): Listen {
  const t = new Date(Date.UTC(2024, 4, 1, 12, minute % 60, 0) + Math.floor(minute / 60) * 3_600_000).toISOString();
  return { listen_id: `l${++seq}-${user}-${track}-${minute}`, user_id: user, track_id: track, started_at: t, ms_played: ms, reason_end: 'trackdone', skipped: false, context: 'unknown', platform: 'test' };
}

export function worldListens(): Listen[] {
  const out: Listen[] = [];
  for (let u = 0; u < 8; u++) for (let i = 0; i < 4; i++) out.push(play(`u${u}`, `${u < 4 ? 'a' : 'b'}${i}`, u * 5 + i));
  return out;
}

/** Fill `store` with the world and build the serving state over a FixedFactorModel. */
export async function seedWorld(store: Store, opts: { rebuildMs?: number } = {}): Promise<{ state: ServingState; model: FixedFactorModel; config: Config }> {
  await store.put('artists', artists);
  await store.put('tracks', tracks);
  await store.put('listens', worldListens());
  const catalog = await Catalog.load(store);
  const l = await store.readListens();
  const m = listenConfidence(l);
  const f = new Float32Array(l.tracks.size * 2);
  for (let t = 0; t < l.tracks.size; t++) f[t * 2 + (l.tracks.id(t).startsWith('a') ? 0 : 1)] = 1;
  // make the unheard a4/b4 known to the model too
  const trackMap = l.tracks;
  for (const id of ['a4', 'b4']) trackMap.add(id as TrackId);
  const item = new Float32Array(trackMap.size * 2);
  item.set(f);
  item[trackMap.row('a4') * 2] = 1;
  item[trackMap.row('b4') * 2 + 1] = 1;
  const wide = { ...m, cols: trackMap.size };
  const model = new FixedFactorModel(2, item, wide);
  const recs = new LiveModel({ recommender: model, users: l.users as typeof l.users & { add(id: UserId): number }, tracks: trackMap, userItems: wide, catalog, kind: 'in-process', rebuildMs: opts.rebuildMs });
  return { state: { recs, catalog }, model, config: defaultConfig() };
}

/**
 * A factor model with fixed item vectors for tests: a user's vector is the confidence-weighted sum
 * of their items' vectors (a crude but exact-answer fold-in), scores are dot products.
 */
export class FixedFactorModel implements Recommender, FoldIn, Factorized {
  readonly name = 'fixed-factors';
  private user: Float32Array;
  constructor(
    readonly factors: number,
    private readonly item: Float32Array,
    userItems: Csr,
  ) {
    this.user = new Float32Array(userItems.rows * factors);
    for (let u = 0; u < userItems.rows; u++) this.foldIn(u, userItems.indices.subarray(userItems.indptr[u], userItems.indptr[u + 1]), userItems.data.subarray(userItems.indptr[u], userItems.indptr[u + 1]));
  }
  /** Calls of foldIn after construction (tests check the fold-in happened). */
  foldIns = 0;
  async fit(): Promise<void> {}
  foldIn(u: number, items: Int32Array, conf: Float32Array): void {
    const f = this.factors;
    if (u * f >= this.user.length) {
      const grown = new Float32Array((u + 1) * f);
      grown.set(this.user);
      this.user = grown;
    }
    const x = this.user.subarray(u * f, (u + 1) * f);
    x.fill(0);
    for (let i = 0; i < items.length; i++) for (let j = 0; j < f; j++) x[j] += conf[i] * this.item[items[i] * f + j];
    this.foldIns++;
  }
  recommend(u: number, userItems: Csr, k: number, opts: RecommendOptions = {}): Ranked {
    const f = this.factors;
    const n = this.item.length / f;
    const s = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) s[i] += this.user[u * f + j] * this.item[i * f + j];
    return topK(s, k, excludeMask(u, userItems, n, opts));
  }
  similarItems(item: number, k: number): Ranked {
    const f = this.factors;
    const n = this.item.length / f;
    const s = new Float32Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) s[i] += this.item[item * f + j] * this.item[i * f + j];
    const mask = new Uint8Array(n);
    mask[item] = 1;
    return topK(s, k, mask);
  }
  similarUsers(): Ranked {
    return { items: new Int32Array(0), scores: new Float32Array(0) };
  }
  async save(): Promise<void> {}
  itemFactors(): Float32Array {
    return this.item;
  }
  userFactors(): Float32Array {
    return this.user;
  }
}

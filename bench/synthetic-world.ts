/**
 * The synthetic world of the API benches: `users` listeners with a genre taste each (80% of their
 * listens in it), `tracks` tracks by `tracks / 20` artists over 20 genres, `listens` listens one
 * second apart from 2024-04-01, 10% of them quick skips (5 s). Deterministic for a seed.
 */
import type { Artist, Listen, Track } from '../src/domain/schemas.ts';
import type { Store } from '../src/store/index.ts';
import { Rng } from '../src/util/rng.ts';

export async function seedSyntheticWorld(store: Pick<Store, 'bulkPut'>, o: { users: number; tracks: number; listens: number; seed: number }): Promise<void> {
  const { users, tracks, listens } = o;
  const rng = new Rng(o.seed);
  const genres = 20;
  const artistsN = Math.max(1, Math.floor(tracks / 20));
  const artists: Artist[] = Array.from({ length: artistsN }, (_, a) => ({ artist_id: `ar${a}`, name: `Artist ${a}`, genres: [`g${a % genres}`] }));
  const trackRows: Track[] = Array.from({ length: tracks }, (_, t) => ({ track_id: `tr${t}`, title: `Track ${t}`, artist_ids: [`ar${t % artistsN}`], duration_ms: 180_000, release_date: '2024-01-01' }));
  await store.bulkPut('artists', [artists]);
  await store.bulkPut('tracks', [trackRows]);
  const tasteOf = Array.from({ length: users }, () => rng.int(genres));
  function* batches(): Generator<Listen[]> {
    const per = 20_000;
    for (let start = 0; start < listens; start += per) {
      const b: Listen[] = [];
      for (let i = start; i < Math.min(listens, start + per); i++) {
        const u = rng.int(users);
        // 80% in the user's genre: track t belongs to genre (t % artistsN) % genres
        const g = rng.next() < 0.8 ? tasteOf[u] : rng.int(genres);
        let t = rng.int(tracks);
        while ((t % artistsN) % genres !== g) t = rng.int(tracks);
        b.push({ listen_id: `s${i}`, user_id: `u${u}`, track_id: `tr${t}`, started_at: new Date(Date.UTC(2024, 3, 1) + i * 1000).toISOString(), ms_played: rng.next() < 0.9 ? 120_000 : 5_000, reason_end: 'trackdone', skipped: false, context: 'unknown', platform: 'bench' });
      }
      yield b;
    }
  }
  await store.bulkPut('listens', batches());
}

/**
 * `count` JSON bodies of 1,000 listens each, for the ingestion phases: ids `<prefix>-<n>`, random
 * users `u<i>` and tracks `tr<j>` of the world above, one second apart from 2024-06-01.
 */
export function ingestBodies(count: number, o: { users: number; tracks: number; prefix: string; rng: Rng }): string[] {
  let seq = 0;
  const batch = () => {
    const b = [];
    for (let i = 0; i < 1000; i++) {
      const id = seq++;
      b.push({ listen_id: `${o.prefix}-${id}`, user_id: `u${o.rng.int(o.users)}`, track_id: `tr${o.rng.int(o.tracks)}`, started_at: new Date(Date.UTC(2024, 5, 1) + id * 1000).toISOString(), ms_played: 120_000 });
    }
    return JSON.stringify(b);
  };
  return Array.from({ length: count }, batch);
}

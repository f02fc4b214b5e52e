/**
 * `npm run bench -- match [--seed N] [--per-track N]`: matching scrobbles to the catalog of the
 * default-size demo world (10,000 tracks, the catalog `deepcut demo` generates, built in memory):
 * the index build, matches per second on perturbed scrobbles (case, accents, punctuation,
 * spacing, feat. credits, remaster suffixes, lengths off by ≤ 2 s or absent; see
 * src/domain/match.testkit.ts), the whole listen resolution (ids hashed, rows built) per second,
 * the share matched to the right track, and false matches among descriptions of other recordings.
 */
import type { Bench } from './bench.ts';
import { numFlag, peakRssMb } from './bench.ts';
import { generateCatalog } from '../src/generate/catalog.ts';
import { DEFAULT_CLOCK, SIZES } from '../src/generate/world.ts';
import { TrackMatcher } from '../src/domain/match.ts';
import { ListenResolver } from '../src/ingest/identity.ts';
import { differentRecordings, perturbedScrobbles } from '../src/domain/match.testkit.ts';

const bench: Bench = {
  name: 'match',
  description: 'Matching perturbed scrobbles to the default demo catalog (10,000 tracks): index build, matches/s, whole listen resolutions/s, match rate, false matches.',
  async run(args) {
    const seed = numFlag(args, 'seed', 1);
    const perTrack = numFlag(args, 'per-track', 3);
    const cat = generateCatalog({ seed, tracks: SIZES.default.tracks, clockMs: Date.parse(DEFAULT_CLOCK) });
    const good = perturbedScrobbles(cat, seed + 1, perTrack);
    const bad = differentRecordings(cat, seed + 2, 6000);

    let t0 = performance.now();
    const m = TrackMatcher.of(cat);
    const buildMs = performance.now() - t0;

    // warm-up pass, then the timed passes
    for (let i = 0; i < 2000; i++) m.resolve(good[i % good.length].query);
    let right = 0;
    let wrong = 0;
    t0 = performance.now();
    for (const g of good) {
      const hit = m.resolve(g.query);
      if (hit?.track_id === g.expect) right++;
      else if (hit) wrong++;
    }
    const matchS = (performance.now() - t0) / 1000;
    let falses = 0;
    t0 = performance.now();
    for (const b of bad) if (m.resolve(b.query)) falses++;
    const missS = (performance.now() - t0) / 1000;

    const resolver = new ListenResolver([m], new TrackMatcher());
    const pass = (offset: number) => {
      const t = performance.now();
      good.forEach((g, i) => resolver.resolve({ user: `u${i % 2000}`, artist: g.query.artist!, track: g.query.title, album: g.query.release, durationMs: g.query.durationMs, startedMs: 1.7e12 + (offset + i) * 1000, stamp: String(1.7e9 + offset + i), msPlayed: g.query.durationMs ?? 30_000 }));
      return (performance.now() - t) / 1000;
    };
    const resolveS = pass(0);
    const repeatS = pass(good.length); // the same tracks again, as a history repeats them: the resolver's cache answers

    return {
      figures: {
        catalog_tracks: cat.tracks.length,
        index_build_ms: buildMs,
        scrobbles: good.length,
        match_per_s: good.length / matchS,
        no_match_per_s: bad.length / missS,
        resolve_listen_per_s: good.length / resolveS,
        resolve_repeat_listen_per_s: good.length / repeatS,
        match_rate: right / good.length,
        matched_other_track: wrong,
        different_recordings: bad.length,
        false_matches: falses,
        peak_rss_mb: peakRssMb(),
      },
      targets: { match_rate: '>= 0.95', false_matches: '0' },
      notes: [
        'matched_other_track: scrobbles resolved to another track of the same artist with the same title key (the generator repeats titles within an artist); with no length sent these are ambiguous.',
        'resolve_listen_per_s includes the listen id (SHA-1) and the named track id hashes and building the rows; resolve_repeat_listen_per_s resolves the same descriptions again (a history repeats its tracks), answered by the resolver cache.',
      ],
    };
  },
};
export default bench;

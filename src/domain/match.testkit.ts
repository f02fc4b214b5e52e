/**
 * Scrobbles of a demo-world catalog for the matcher's test and bench: each catalog track described
 * the way players and exports spell it (case, accents, punctuation, spacing, "feat." credits,
 * remaster suffixes, a length off by a second or two, or none), and a set of descriptions of
 * *other* recordings that must not match (same artist other title, same title other artist, a live
 * or remix version, the same names with another length). Seeded: the same seed gives the same set.
 */
import type { Album, Artist, Track } from '../domain/schemas.ts';
import { Rng } from '../util/rng.ts';
import { titleKey, artistKey, type TrackQuery } from './match.ts';

export interface LabelledQuery {
  query: TrackQuery;
  /** The catalog track meant, or null for a recording the catalog does not have. */
  expect: string | null;
  /** What was done to the names (for failure messages). */
  how: string;
}

const ACCENT: Record<string, string> = { a: 'á', e: 'é', i: 'í', o: 'ö', u: 'ü', n: 'ñ', c: 'ç' };

type Perturb = (s: string, rng: Rng) => string;
const perturbations: Record<string, Perturb> = {
  upper: (s) => s.toUpperCase(),
  lower: (s) => s.toLowerCase(),
  randomCase: (s, rng) => [...s].map((c) => (rng.next() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join(''),
  accents: (s, rng) => [...s].map((c) => (ACCENT[c] && rng.next() < 0.5 ? ACCENT[c] : c)).join(''),
  punctuation: (s, rng) => rng.pick([`${s}!`, `${s}.`, `"${s}"`, s.replace(/ /g, ' - '), s.replace(/ /, ', '), `${s}?!`]),
  whitespace: (s) => `  ${s.replace(/ /g, '   ')} `,
};
const REMASTER = [' (Remastered 2011)', ' - 2009 Remaster', ' [Remastered]', ' - Remastered Version', ' (2015 Remaster)', ' (Deluxe Edition)'];

/** Scrobbles of `tracks` (each `perTrack` times, perturbed differently), labelled with the track meant. */
export function perturbedScrobbles(cat: { artists: Artist[]; albums: Album[]; tracks: Track[] }, seed: number, perTrack = 1): LabelledQuery[] {
  const rng = new Rng(seed);
  const names = new Map(cat.artists.map((a) => [a.artist_id, a.name]));
  const albums = new Map(cat.albums.map((a) => [a.album_id, a.title]));
  const out: LabelledQuery[] = [];
  const kinds = Object.keys(perturbations);
  for (const t of cat.tracks) {
    for (let k = 0; k < perTrack; k++) {
      let title = t.title;
      let artist = names.get(t.artist_ids[0])!;
      const how: string[] = [];
      for (let i = 0; i < 1 + rng.int(3); i++) {
        const p = rng.pick(kinds);
        how.push(p);
        if (rng.next() < 0.5) title = perturbations[p](title, rng);
        else artist = perturbations[p](artist, rng);
      }
      if (rng.next() < 0.3) {
        const other = rng.pick(cat.artists).name;
        how.push('feat');
        if (rng.next() < 0.5) title += rng.pick([` (feat. ${other})`, ` [ft. ${other}]`, ` featuring ${other}`]);
        else artist += rng.pick([` feat. ${other}`, ` ft. ${other}`, ` & ${other}`]);
      }
      if (rng.next() < 0.3) {
        how.push('remaster');
        title += rng.pick(REMASTER);
      }
      const query: TrackQuery = { title, artist };
      if (rng.next() < 0.6) query.durationMs = t.duration_ms + rng.int(4001) - 2000;
      if (rng.next() < 0.4 && t.album_id) query.release = albums.get(t.album_id);
      out.push({ query, expect: t.track_id, how: how.join('+') });
    }
  }
  return out;
}

/** Descriptions of recordings the catalog does not have, each close to one it has. */
export function differentRecordings(cat: { artists: Artist[]; tracks: Track[] }, seed: number, n: number): LabelledQuery[] {
  const rng = new Rng(seed);
  const names = new Map(cat.artists.map((a) => [a.artist_id, a.name]));
  // title keys each artist has, to pick a title or an artist that really is different
  const has = new Set<string>();
  for (const t of cat.tracks) for (const a of t.artist_ids) has.add(artistKey(names.get(a)!) + '\u0001' + titleKey(t.title));
  const out: LabelledQuery[] = [];
  const kinds = ['other title', 'other artist', 'live', 'remix', 'other length', 'unknown'] as const;
  while (out.length < n) {
    const t = rng.pick(cat.tracks);
    const artist = names.get(t.artist_ids[0])!;
    const kind = kinds[out.length % kinds.length];
    let q: TrackQuery;
    if (kind === 'other title') {
      const title = rng.pick(cat.tracks).title;
      if (has.has(artistKey(artist) + '\u0001' + titleKey(title))) continue;
      q = { artist, title, durationMs: rng.next() < 0.5 ? t.duration_ms : undefined };
    } else if (kind === 'other artist') {
      const other = rng.pick(cat.artists).name;
      if (has.has(artistKey(other) + '\u0001' + titleKey(t.title))) continue;
      q = { artist: other, title: t.title, durationMs: rng.next() < 0.5 ? t.duration_ms : undefined };
    } else if (kind === 'live') q = { artist, title: `${t.title} ${rng.pick(['(Live)', '- Live at Wembley', '[Live 1999]'])}`, durationMs: t.duration_ms + 30_000 + rng.int(60_000) };
    else if (kind === 'remix') q = { artist, title: `${t.title} ${rng.pick(['(Extended Mix)', '- Club Remix', '(Radio Edit)'])}`, durationMs: t.duration_ms + (rng.next() < 0.5 ? -1 : 1) * (40_000 + rng.int(60_000)) };
    else if (kind === 'other length') q = { artist, title: t.title, durationMs: t.duration_ms + (rng.next() < 0.5 ? -1 : 1) * (25_000 + rng.int(90_000)) };
    else q = { artist: `${artist} Tribute Band`, title: `${t.title} Reprise` };
    // another track of the same artist with this title and a length within tolerance would be a true match: skip those
    if (kind === 'other length' && cat.tracks.some((u) => u !== t && u.artist_ids[0] === t.artist_ids[0] && titleKey(u.title) === titleKey(t.title))) continue;
    out.push({ query: q, expect: null, how: kind });
  }
  return out;
}

/**
 * The catalog of the demo world: artists with power-law popularity (a share of them new, a share
 * underrated), their releases (albums, EPs, singles) spread over years up to the clock's week, and
 * tracks with the musical labels their audio is synthesized from. Pure: a seed and a clock in, the
 * same catalog out.
 */
import type { Album, Artist, Track } from '../domain/schemas.ts';
import { Rng } from '../util/rng.ts';
import { GENRES, SYLLABLES, type Instrument, type Meter, type Mode } from './genres.ts';
import { DAY_MS, WEEK_MS, isoDay, madeUpWord, pickWeighted, uniform } from './util.ts';

/** The musical style an artist keeps across tracks (drawn inside its genre's ranges). */
export interface ArtistStyle {
  tempo_bpm: number;
  meter: Meter;
  keys: number[];
  major_share: number;
  chords: Instrument;
  bass: Instrument;
  lead: Instrument;
  /** 0 (dark, few harmonics) .. 1 (bright). */
  brightness: number;
  loudness_dbfs: number;
}

/** Ground truth about an artist (written to truth/artists.jsonl). */
export interface ArtistTruth {
  artist_id: string;
  genre: string;
  /** Relative popularity (power law), the largest is 1. */
  popularity: number;
  /** How much listeners who hear this artist like it, 0..1. */
  quality: number;
  is_new: boolean;
  underrated: boolean;
  debut: string;
  style: ArtistStyle;
  /** Made-up words that belong to this artist (used by texts). */
  signature: string[];
}

/** Ground-truth labels of a track (written to truth/tracks.jsonl); the audio follows them. */
export interface TrackTruth {
  track_id: string;
  genre: string;
  artist_ids: string[];
  release_date: string;
  /** Relative popularity (artist popularity × track factor). */
  popularity: number;
  quality: number;
  tempo_bpm: number;
  meter: Meter;
  /** Pitch class of the tonic, 0 = C … 11 = B. */
  key: number;
  mode: Mode;
  loudness_dbfs: number;
  instruments: string[];
  /** Index into the artist's chord progressions (synth.ts). */
  progression: number;
  brightness: number;
  has_audio: boolean;
}

export interface Catalog {
  artists: Artist[];
  albums: Album[];
  tracks: Track[];
  artistTruth: ArtistTruth[];
  trackTruth: TrackTruth[];
  /** Genre index of each artist / track (parallel to the arrays above). */
  artistGenre: Int32Array;
  trackGenre: Int32Array;
  /** Primary artist index of each track and, for collaborations, the second (-1 otherwise). */
  trackArtist: Int32Array;
  trackFeat: Int32Array;
  /** Release time of each track, epoch ms (UTC midnight of its release date). */
  trackReleaseMs: Float64Array;
  /** Track indices of each artist (as primary or featured), oldest release first. */
  artistTracks: number[][];
  /** Album index of each track. */
  trackAlbum: Int32Array;
  /** Track indices of each album, in album order. */
  albumTracks: number[][];
}

export interface CatalogOptions {
  seed: number;
  tracks: number;
  /** The generator's clock, epoch ms: no release is later than its week. */
  clockMs: number;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Identifier helpers, so other stages can name rows without the catalog. */
export const ids = {
  artist: (i: number) => `ar-${pad(i, 6)}`,
  album: (i: number) => `al-${pad(i, 6)}`,
  track: (i: number) => `tr-${pad(i, 7)}`,
  user: (i: number) => `u-${pad(i, 6)}`,
};

/** Build the catalog: ~8 tracks per artist, at least 3 artists in every genre. */
export function generateCatalog(o: CatalogOptions): Catalog {
  const rng = new Rng(o.seed ^ 0xca7a1091);
  const nArtists = Math.max(GENRES.length * 3, Math.round(o.tracks / 8));
  const shares = GENRES.map((g) => g.share);
  const clockDay = Math.floor(o.clockMs / DAY_MS) * DAY_MS;
  // The Friday on or before the clock: new releases land on Fridays.
  const lastFriday = clockDay - (((new Date(clockDay).getUTCDay() - 5 + 7) % 7) * DAY_MS);

  // Popularity: Zipf over a random rank order, times a little log-normal noise.
  const rank = rng.shuffle(Array.from({ length: nArtists }, (_, i) => i));
  const artists: Artist[] = [];
  const artistTruth: ArtistTruth[] = [];
  const artistGenre = new Int32Array(nArtists);
  for (let i = 0; i < nArtists; i++) {
    const g = i < GENRES.length * 3 ? i % GENRES.length : pickWeighted(rng, shares);
    const genre = GENRES[g];
    artistGenre[i] = g;
    let popularity = Math.pow(rank[i] + 1, -0.95) * Math.exp(0.3 * rng.normal());
    const isNew = rng.next() < 0.08;
    const underrated = !isNew && rank[i] > nArtists * 0.4 && rng.next() < 0.15;
    let quality = Math.min(0.95, Math.max(0.15, 0.55 + 0.15 * rng.normal()));
    if (underrated) quality = uniform(rng, 0.85, 0.98);
    if (isNew) popularity *= 0.3;
    const debutMs = isNew ? lastFriday - rng.int(12) * WEEK_MS : Date.UTC(2006 + rng.int(19), rng.int(12), 1 + rng.int(28));
    const nameStyle = rng.int(4);
    const made = madeUpWord(rng, SYLLABLES, 2 + rng.int(2));
    const word = rng.pick(genre.nameWords);
    const name =
      nameStyle === 0 ? `The ${word} ${rng.pick(genre.nameWords)}s` : nameStyle === 1 ? `${word} ${made}` : nameStyle === 2 ? `${made} ${madeUpWord(rng, SYLLABLES, 2)}` : `${made} & the ${word}s`;
    const [tLo, tHi] = genre.tempo;
    const meters = genre.meters.map((m) => m[1]);
    const style: ArtistStyle = {
      tempo_bpm: Math.round(uniform(rng, tLo, tHi)),
      meter: genre.meters[pickWeighted(rng, meters)][0],
      keys: [rng.int(12), rng.int(12)],
      major_share: Math.min(1, Math.max(0, genre.majorShare + 0.25 * rng.normal())),
      chords: rng.pick(genre.chords),
      bass: rng.pick(genre.bass),
      lead: rng.pick(genre.lead),
      brightness: Math.round(rng.next() * 100) / 100,
      loudness_dbfs: Math.round(uniform(rng, genre.loudness[0], genre.loudness[1]) * 10) / 10,
    };
    const signature = [madeUpWord(rng, SYLLABLES, 3).toLowerCase(), madeUpWord(rng, SYLLABLES, 2).toLowerCase(), rng.pick(genre.words), rng.pick(genre.words)];
    const id = ids.artist(i);
    const country = rng.next() < 0.8 ? rng.pick(genre.countries) : rng.pick(['US', 'GB', 'DE', 'BR', 'JP', 'FR', 'ES', 'MX']);
    artists.push({ artist_id: id, name, genres: [genre.name], country });
    artistTruth.push({ artist_id: id, genre: genre.name, popularity, quality: round3(quality), is_new: isNew, underrated, debut: isoDay(debutMs), style, signature });
  }
  const maxPop = Math.max(...artistTruth.map((a) => a.popularity));
  for (const a of artistTruth) a.popularity = round6(a.popularity / maxPop);

  // Track budget per artist: popular artists release more, everyone at least 2.
  const budget = artistTruth.map((a) => 2 + a.popularity ** 0.35);
  const totalBudget = budget.reduce((s, b) => s + b, 0);
  const perArtist = budget.map((b) => Math.max(2, Math.floor((b / totalBudget) * o.tracks)));
  let left = o.tracks - perArtist.reduce((s, n) => s + n, 0);
  for (let i = 0; left > 0; i = (i + 1) % nArtists, left--) perArtist[i]++;
  for (let i = nArtists - 1; left < 0; i = (i - 1 + nArtists) % nArtists) if (perArtist[i] > 2) perArtist[i]--, left++;

  const albums: Album[] = [];
  const tracks: Track[] = [];
  const trackTruth: TrackTruth[] = [];
  const trackArtistL: number[] = [];
  const trackReleaseL: number[] = [];
  const trackAlbumL: number[] = [];
  const albumTracks: number[][] = [];
  for (let a = 0; a < nArtists; a++) {
    const at = artistTruth[a];
    const genre = GENRES[artistGenre[a]];
    // Split the artist's tracks into releases, oldest first.
    const sizes: { type: Album['album_type']; n: number }[] = [];
    let rest = perArtist[a];
    while (rest > 0) {
      const r = rng.next();
      const type = at.is_new ? (r < 0.7 ? 'single' : 'ep') : r < 0.45 ? 'album' : r < 0.7 ? 'ep' : 'single';
      const want = type === 'album' ? 8 + rng.int(5) : type === 'ep' ? 4 + rng.int(3) : 1 + rng.int(2);
      const n = Math.min(rest, want);
      sizes.push({ type: n >= 7 ? 'album' : n >= 3 ? 'ep' : 'single', n });
      rest -= n;
    }
    const debut = Date.parse(at.debut + 'T00:00:00Z');
    // A quarter of the artists have their latest release within the last eight weeks (Fridays).
    const recent = at.is_new || rng.next() < 0.25;
    const lastRelease = recent ? lastFriday - rng.int(8) * WEEK_MS : debut + rng.next() * Math.max(0, lastFriday - 9 * WEEK_MS - debut);
    for (let r = 0; r < sizes.length; r++) {
      const t = sizes.length === 1 ? lastRelease : debut + ((lastRelease - debut) * r) / (sizes.length - 1);
      const releaseMs = Math.floor(t / DAY_MS) * DAY_MS;
      const albumIdx = albums.length;
      const title = titleFrom(rng, genre.nameWords, genre.words);
      albums.push({ album_id: ids.album(albumIdx), title, artist_ids: [at.artist_id], release_date: isoDay(releaseMs), album_type: sizes[r].type });
      albumTracks.push([]);
      for (let k = 0; k < sizes[r].n; k++) {
        const ti = tracks.length;
        const major = rng.next() < at.style.major_share;
        const meter: Meter = rng.next() < 0.85 ? at.style.meter : genre.meters[pickWeighted(rng, genre.meters.map((m) => m[1]))][0];
        const tempo = Math.round(Math.min(genre.tempo[1], Math.max(genre.tempo[0], at.style.tempo_bpm + 4 * rng.normal())));
        const key = rng.next() < 0.7 ? rng.pick(at.style.keys) : rng.int(12);
        const quality = Math.min(0.99, Math.max(0.05, at.quality + 0.12 * rng.normal()));
        const pop = at.popularity * Math.exp(1.0 * rng.normal()) * (k === 0 ? 1.6 : 1);
        const durationMs = Math.round(uniform(rng, genre.durationS[0], genre.durationS[1]) * 1000);
        const instruments = [at.style.chords, at.style.bass, at.style.lead].filter((x, i, xs) => xs.indexOf(x) === i);
        const id = ids.track(ti);
        tracks.push({
          track_id: id,
          title: titleFrom(rng, genre.nameWords, genre.words),
          album_id: albums[albumIdx].album_id,
          artist_ids: [at.artist_id],
          duration_ms: durationMs,
          release_date: isoDay(releaseMs),
          isrc: `${(artists[a].country ?? 'XX').toUpperCase()}DC${String.fromCharCode(65 + (a % 26))}${pad(ti, 7)}`,
        });
        trackTruth.push({
          track_id: id,
          genre: genre.name,
          artist_ids: [at.artist_id],
          release_date: isoDay(releaseMs),
          popularity: pop,
          quality: round3(quality),
          tempo_bpm: tempo,
          meter,
          key,
          mode: major ? 'major' : 'minor',
          loudness_dbfs: Math.round((at.style.loudness_dbfs + 0.8 * rng.normal()) * 10) / 10,
          instruments: [...instruments, `drums:${genre.drums}`],
          progression: rng.int(3),
          brightness: Math.round(Math.min(1, Math.max(0, at.style.brightness + 0.1 * rng.normal())) * 100) / 100,
          has_audio: false,
        });
        trackArtistL.push(a);
        trackReleaseL.push(releaseMs);
        trackAlbumL.push(albumIdx);
        albumTracks[albumIdx].push(ti);
      }
    }
  }
  const nTracks = tracks.length;
  const maxTrackPop = Math.max(...trackTruth.map((t) => t.popularity));
  for (const t of trackTruth) t.popularity = round6(t.popularity / maxTrackPop);

  // Collaborations: ~6% of tracks feature a second artist, mostly from the same genre.
  const byGenre: number[][] = GENRES.map(() => []);
  for (let a = 0; a < nArtists; a++) byGenre[artistGenre[a]].push(a);
  const trackFeat = new Int32Array(nTracks).fill(-1);
  for (let t = 0; t < nTracks; t++) {
    if (rng.next() >= 0.06) continue;
    const a = trackArtistL[t];
    const pool = rng.next() < 0.8 ? byGenre[artistGenre[a]] : Array.from({ length: nArtists }, (_, i) => i);
    const b = rng.pick(pool);
    if (b === a || Date.parse(artistTruth[b].debut) > trackReleaseL[t]) continue;
    trackFeat[t] = b;
    tracks[t].artist_ids.push(artistTruth[b].artist_id);
    trackTruth[t].artist_ids.push(artistTruth[b].artist_id);
    tracks[t].title += ` (feat. ${artists[b].name})`;
  }

  const artistTracks: number[][] = artists.map(() => []);
  for (let t = 0; t < nTracks; t++) {
    artistTracks[trackArtistL[t]].push(t);
    if (trackFeat[t] >= 0) artistTracks[trackFeat[t]].push(t);
  }
  const trackGenre = new Int32Array(nTracks);
  for (let t = 0; t < nTracks; t++) trackGenre[t] = artistGenre[trackArtistL[t]];
  return {
    artists,
    albums,
    tracks,
    artistTruth,
    trackTruth,
    artistGenre,
    trackGenre,
    trackArtist: Int32Array.from(trackArtistL),
    trackFeat,
    trackReleaseMs: Float64Array.from(trackReleaseL),
    artistTracks,
    trackAlbum: Int32Array.from(trackAlbumL),
    albumTracks,
  };
}

function titleFrom(rng: Rng, nameWords: readonly string[], words: readonly string[]): string {
  const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
  switch (rng.int(4)) {
    case 0:
      return `${rng.pick(nameWords)} ${cap(rng.pick(words))}`;
    case 1:
      return `${cap(rng.pick(words))} ${rng.pick(['Nights', 'Days', 'Dreams', 'Lights', 'Lines', 'Waves', 'Hearts', 'Roads'])}`;
    case 2:
      return `The ${cap(rng.pick(words))}`;
    default:
      return `${rng.pick(['Into', 'Under', 'After', 'Beyond', 'Without', 'For'])} the ${rng.pick(nameWords)}`;
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * Matching tracks described by names (a scrobble, a streaming history) to catalog tracks.
 *
 * A {@link TrackMatcher} is an in-memory index built once from the catalog (Maps keyed by
 * recording MBID, ISRC, and artist id + normalised title) and updated as catalog rows arrive, so
 * one lookup costs a few Map gets and one normalisation of the title. A query resolves, in order:
 *
 * 1. by recording MBID, 2. by ISRC — exact ids, trusted as they are;
 * 3. by name: the artist name (whole, else each credited artist of "A feat. B", "A & B") gives
 *    artist ids; each artist id with the {@link titleKey} of the title gives candidate tracks;
 *    a candidate whose length differs from a known length by more than {@link durationTolerance}
 *    is not the same recording. Catalog tracks win over tracks created from names; then the one
 *    on the named release; then the closest length; then the smallest id (deterministic).
 *
 * Tracks whose release date is {@link UNKNOWN_RELEASE_DATE} were created from names (a history
 * or a scrobble that matched nothing): they are indexed too, so a second spelling of the same
 * unmatched track finds the first (outcome `history`), and {@link TrackMatcher.links} maps each
 * of them to the catalog track it resolves to once the catalog has it.
 *
 * Why links are computed, not stored: listens are immutable events and keep the track id they
 * were stored with; whether a created track *is* a catalog track is a function of the catalog,
 * which changes. The pipeline's snapshot builds a matcher from the catalog it reads anyway and
 * counts every listen of a linked track for its catalog track (`buildSnapshot`), and
 * `deepcut validate` reports the same links; so a catalog import makes earlier scrobbles count
 * at the next run, with nothing to migrate, re-write or keep consistent.
 */
import { UNKNOWN_RELEASE_DATE, type Track } from './schemas.ts';

export { UNKNOWN_RELEASE_DATE };
/** `duration_ms` of a created track whose length the source did not give (the schema needs ≥ 1). */
export const UNKNOWN_DURATION_MS = 1;

/** How a named track was resolved: to a catalog track by MBID, ISRC or name, to an earlier created track, or created now. */
export type MatchOutcome = 'mbid' | 'isrc' | 'name' | 'history' | 'created';
export const MATCH_OUTCOMES: readonly MatchOutcome[] = ['mbid', 'isrc', 'name', 'history', 'created'];

/**
 * Whether a track was created from names rather than given by a catalog: release date
 * {@link UNKNOWN_RELEASE_DATE}, or one `POST /1/submit-listens` created before listens had one
 * identity (`lb-track:…`/`mbid:…` ids dated 1970-01-01), so those too link to the catalog.
 */
export function isNamedTrack(t: Pick<Track, 'track_id' | 'release_date'>): boolean {
  return t.release_date === UNKNOWN_RELEASE_DATE || (t.release_date === '1970-01-01' && /^(?:lb-track|mbid):/.test(t.track_id));
}

/** Largest difference of two known lengths (ms) of the same recording: 5 s or 3% of the longer, whichever is more. */
export function durationTolerance(a: number, b: number): number {
  return Math.max(5000, 0.03 * Math.max(a, b));
}

const MARKS = /\p{M}+/gu;
const FOLD: Record<string, string> = { ø: 'o', æ: 'ae', œ: 'oe', ł: 'l', đ: 'd', ß: 'ss', þ: 'th', ð: 'd', ı: 'i' };
const UNFOLDED = /[øæœłđßþðı]/g;
/** Printable ASCII only: the common case, which skips Unicode normalisation and property classes. */
const ASCII = /^[\x20-\x7e]*$/;
/** Lower case without accents: NFKD, combining marks dropped, a few letters that do not decompose folded (`Ø` → `o`). */
function fold(s: string): string {
  if (ASCII.test(s)) return s.toLowerCase();
  return s.normalize('NFKD').replace(MARKS, '').toLowerCase().replace(UNFOLDED, (c) => FOLD[c]);
}
/** Of a folded string: apostrophes vanish (`Don't` = `Dont`), `&` is `and`, every other run of non-letters/digits is one space. */
function squash(t: string): string {
  const u = t.replace(/['’‘`´]/g, '').replace(/&/g, ' and ');
  return (ASCII.test(u) ? u.replace(/[^a-z0-9]+/g, ' ') : u.replace(/[^\p{L}\p{N}]+/gu, ' ')).trim();
}
const MAYBE_BRACKET = /[([{]/;
const MAYBE_DASH = /\s[-–—]\s/;
const BRACKETED = /[([{]([^)\]}]*)[)\]}]/g;
const FEAT = /^\s*(?:feat\.?|ft\.?|featuring)\s/;
/** Words of a bracket or dash suffix that name an edition of the same recording, not another recording. */
const EDITION = /\b(?:re-?master(?:ed)?|remaster|deluxe|bonus track|expanded|anniversary|explicit)\b/;
/** The last ` - ` part of a title (`Song - 2009 Remaster`). */
const DASH_TAIL = /\s[-–—]\s((?:(?!\s[-–—]\s).)*)$/;
const FEAT_ONLY = /\s(?:feat\.?|ft\.?|featuring)\s/;
const FEAT_TAIL = /\s(?:feat\.?|ft\.?|featuring)\s.*$/;

/**
 * Key of a track title for matching: accents, case, punctuation and spacing dropped, featured
 * artists and edition suffixes removed. Live, remix, edit, acoustic… suffixes stay: they are other
 * recordings.
 * @example titleKey('Héroes (Remastered 2011) [feat. Brian Eno]') === 'heroes'
 * @example titleKey('Heroes - Live') === 'heroes live'
 */
export function titleKey(title: string): string {
  let t = fold(title);
  if (MAYBE_BRACKET.test(t)) t = t.replace(BRACKETED, (m, inner: string) => (FEAT.test(inner) || EDITION.test(inner) ? ' ' : m));
  if (MAYBE_DASH.test(t)) t = t.replace(DASH_TAIL, (m, tail: string) => (FEAT.test(tail) || EDITION.test(tail) ? ' ' : m));
  if (t.includes('f')) t = t.replace(FEAT_TAIL, ' ');
  const k = squash(t);
  return k || squash(fold(title)) || title.trim().toLowerCase();
}

const FEAT_SPLIT = /\s(?:feat\.?|ft\.?|featuring|vs\.?|x|with)\s/;
const JOIN_SPLIT = /\s*[&,;/+]\s*|\sand\s/;

/** Key of an artist name: accents, case, punctuation and spacing dropped (`Beyoncé & JAY-Z` → `beyonce and jay z`). */
export function artistKey(name: string): string {
  return squash(fold(name)) || name.trim().toLowerCase();
}

/**
 * Keys of the artists a credit may name, for when the whole credit names none: the parts around
 * `feat.`/`ft.`/`featuring`/`vs.`/`x`/`with`, then every run of the parts around `&`, `,`, `and`…
 * joined back with a space and with `and` (so `Simon & Garfunkel & X` still yields `simon and
 * garfunkel`). Longest runs first.
 * @example creditKeys('Oskael & the Graves ft. Pharrell') → ['oskael and the graves', 'pharrell', 'oskael the graves', 'oskael', 'the graves']
 */
export function creditKeys(name: string): string[] {
  const out = new Set<string>();
  const big = fold(name).split(FEAT_SPLIT).map((p) => p.trim()).filter(Boolean);
  for (const p of big) out.add(squash(p));
  for (const p of big) {
    const parts = p.split(JOIN_SPLIT).map(squash).filter(Boolean);
    for (let len = parts.length; len >= 1; len--)
      for (let i = 0; i + len <= parts.length; i++) {
        const run = parts.slice(i, i + len);
        out.add(run.join(' and '));
        out.add(run.join(' '));
      }
  }
  out.delete('');
  return [...out];
}

/** What the matcher needs of a track (the catalog routes and the store give whole rows). */
export type MatchableTrack = Pick<Track, 'track_id' | 'title' | 'artist_ids' | 'release_date'> & Partial<Pick<Track, 'duration_ms' | 'album_id' | 'isrc' | 'mbid'>>;

/** A track described by what a listen says of it. */
export interface TrackQuery {
  title: string;
  /** The artist credit as sent (`A feat. B` is fine). */
  artist?: string;
  /** Artist ids known already (a created track's own artists). */
  artistIds?: readonly string[];
  artistMbids?: readonly string[];
  /** Release (album) title. */
  release?: string;
  /** Length in ms, when known. */
  durationMs?: number;
  isrc?: string;
  /** Recording MBID. */
  mbid?: string;
}

export interface TrackMatch {
  track_id: string;
  outcome: Exclude<MatchOutcome, 'created'>;
}

interface Entry {
  id: string;
  title: string;
  artists: readonly string[];
  key: string;
  /** undefined when unknown. */
  durationMs: number | undefined;
  album: string | undefined;
  isrc: string | undefined;
  mbid: string | undefined;
  /** Created from names (release date unknown), not a catalog track. */
  named: boolean;
}

const SEP = '\u0001';

export class TrackMatcher {
  private readonly tracks = new Map<string, Entry>();
  private readonly byName = new Map<string, Entry[]>();
  private readonly byIsrc = new Map<string, Entry[]>();
  private readonly byMbid = new Map<string, Entry[]>();
  private readonly artistsByKey = new Map<string, string[]>();
  private readonly artistByMbid = new Map<string, string>();
  private readonly artistNames = new Map<string, string>();
  /** Catalog (not named) tracks per artist id: an artist that has some is a catalog artist. */
  private readonly catalogTracksOf = new Map<string, number>();
  private readonly albumKeys = new Map<string, string>();

  /** A matcher over these rows (any order: tracks are keyed by artist id, names may come later). */
  static of(rows: { artists?: Iterable<{ artist_id: string; name: string; mbid?: string }>; albums?: Iterable<{ album_id: string; title: string }>; tracks?: Iterable<MatchableTrack> }): TrackMatcher {
    const m = new TrackMatcher();
    if (rows.artists) m.addArtists(rows.artists);
    if (rows.albums) m.addAlbums(rows.albums);
    if (rows.tracks) m.addTracks(rows.tracks);
    return m;
  }

  get trackCount(): number {
    return this.tracks.size;
  }

  addArtists(rows: Iterable<{ artist_id: string; name: string; mbid?: string }>): void {
    for (const a of rows) {
      const old = this.artistNames.get(a.artist_id);
      if (old !== undefined) remove(this.artistsByKey, artistKey(old), a.artist_id);
      this.artistNames.set(a.artist_id, a.name);
      push(this.artistsByKey, artistKey(a.name), a.artist_id);
      if (a.mbid) this.artistByMbid.set(a.mbid.toLowerCase(), a.artist_id);
    }
  }

  addAlbums(rows: Iterable<{ album_id: string; title: string }>): void {
    for (const a of rows) this.albumKeys.set(a.album_id, titleKey(a.title));
  }

  /** Add tracks, or replace them (a catalog upsert): a track's old keys are dropped first. */
  addTracks(rows: Iterable<MatchableTrack>): void {
    for (const t of rows) {
      const old = this.tracks.get(t.track_id);
      if (old) this.unindex(old);
      const e: Entry = {
        id: t.track_id,
        title: t.title,
        artists: t.artist_ids,
        key: titleKey(t.title),
        durationMs: t.duration_ms !== undefined && t.duration_ms > UNKNOWN_DURATION_MS ? t.duration_ms : undefined,
        album: t.album_id,
        isrc: t.isrc,
        mbid: t.mbid?.toLowerCase(),
        named: isNamedTrack(t),
      };
      this.tracks.set(e.id, e);
      for (const a of e.artists) {
        push(this.byName, a + SEP + e.key, e);
        if (!e.named) this.catalogTracksOf.set(a, (this.catalogTracksOf.get(a) ?? 0) + 1);
      }
      if (e.isrc) push(this.byIsrc, e.isrc, e);
      if (e.mbid) push(this.byMbid, e.mbid, e);
    }
  }

  hasTrack(id: string): boolean {
    return this.tracks.has(id);
  }

  /** Whether `id` is a track created from names (release date unknown); false for catalog and unknown tracks. */
  isNamed(id: string): boolean {
    return this.tracks.get(id)?.named ?? false;
  }

  hasArtist(id: string): boolean {
    return this.artistNames.has(id);
  }

  /**
   * The track `q` describes, or undefined. `catalogOnly` ignores tracks created from names (for
   * linking them).
   */
  resolve(q: TrackQuery, opts: { catalogOnly?: boolean } = {}): TrackMatch | undefined {
    const ok = (e: Entry) => !(opts.catalogOnly && e.named);
    const exact = (es: Entry[] | undefined, outcome: 'mbid' | 'isrc'): TrackMatch | undefined => {
      const e = es && best(es.filter(ok), q, this.albumKeys);
      return e ? { track_id: e.id, outcome: e.named ? 'history' : outcome } : undefined;
    };
    const byId = (q.mbid ? exact(this.byMbid.get(q.mbid.toLowerCase()), 'mbid') : undefined) ?? (q.isrc ? exact(this.byIsrc.get(q.isrc), 'isrc') : undefined);
    if (byId) return byId;
    const key = titleKey(q.title);
    const found: Entry[] = [];
    for (const a of this.artistCandidates(q)) {
      for (const e of this.byName.get(a + SEP + key) ?? []) {
        if (!ok(e) || found.includes(e)) continue;
        if (q.durationMs !== undefined && e.durationMs !== undefined && Math.abs(q.durationMs - e.durationMs) > durationTolerance(q.durationMs, e.durationMs)) continue;
        found.push(e);
      }
    }
    const e = best(found, q, this.albumKeys);
    return e ? { track_id: e.id, outcome: e.named ? 'history' : 'name' } : undefined;
  }

  /**
   * The known artist a credit names, for a track created from it: by MBID, else the whole name,
   * else the first artist of an `A feat. B` credit; catalog artists before created ones.
   */
  resolveArtist(name: string, mbids?: readonly string[]): string | undefined {
    for (const m of mbids ?? []) {
      const id = this.artistByMbid.get(m.toLowerCase());
      if (id) return id;
    }
    const pick = (ids: string[] | undefined) =>
      ids?.length ? [...ids].sort((a, b) => Number((this.catalogTracksOf.get(b) ?? 0) > 0) - Number((this.catalogTracksOf.get(a) ?? 0) > 0) || (a < b ? -1 : a > b ? 1 : 0))[0] : undefined;
    const whole = pick(this.artistsByKey.get(artistKey(name)));
    if (whole) return whole;
    const parts = fold(name).split(FEAT_ONLY);
    return parts.length > 1 ? pick(this.artistsByKey.get(squash(parts[0]))) : undefined;
  }

  /**
   * Every created (named) track that now resolves to a catalog track, `named id → catalog id`:
   * the same rules as {@link resolve}, asked with the created track's title, artists (their ids
   * and their names), length, ISRC and MBID.
   */
  links(): Map<string, string> {
    const out = new Map<string, string>();
    for (const e of this.tracks.values()) {
      if (!e.named) continue;
      const names = e.artists.map((a) => this.artistNames.get(a)).filter((n): n is string => n !== undefined);
      let hit: TrackMatch | undefined;
      for (const artist of names.length ? names : [undefined]) {
        hit = this.resolve({ title: e.title, artist, artistIds: e.artists, durationMs: e.durationMs, isrc: e.isrc, mbid: e.mbid }, { catalogOnly: true });
        if (hit) break;
      }
      if (hit) out.set(e.id, hit.track_id);
    }
    return out;
  }

  private artistCandidates(q: TrackQuery): string[] {
    const ids = new Set<string>(q.artistIds ?? []);
    for (const m of q.artistMbids ?? []) {
      const id = this.artistByMbid.get(m.toLowerCase());
      if (id) ids.add(id);
    }
    if (q.artist !== undefined) {
      const whole = this.artistsByKey.get(artistKey(q.artist));
      if (whole) for (const id of whole) ids.add(id);
      else for (const k of creditKeys(q.artist)) for (const id of this.artistsByKey.get(k) ?? []) ids.add(id);
    }
    return [...ids];
  }

  private unindex(e: Entry): void {
    for (const a of e.artists) {
      remove(this.byName, a + SEP + e.key, e);
      if (!e.named) this.catalogTracksOf.set(a, (this.catalogTracksOf.get(a) ?? 1) - 1);
    }
    if (e.isrc) remove(this.byIsrc, e.isrc, e);
    if (e.mbid) remove(this.byMbid, e.mbid, e);
  }
}

/** Catalog before named; on the named release; closest length (unknown last); smallest id. */
function best(es: Entry[], q: TrackQuery, albumKeys: Map<string, string>): Entry | undefined {
  if (es.length <= 1) return es[0];
  const release = q.release ? titleKey(q.release) : undefined;
  const rank = (e: Entry): [number, number, number] => [
    e.named ? 1 : 0,
    release !== undefined && e.album !== undefined && albumKeys.get(e.album) === release ? 0 : 1,
    q.durationMs !== undefined && e.durationMs !== undefined ? Math.abs(q.durationMs - e.durationMs) : Infinity,
  ];
  let top = es[0];
  let r = rank(top);
  for (let i = 1; i < es.length; i++) {
    const s = rank(es[i]);
    if (s[0] < r[0] || (s[0] === r[0] && (s[1] < r[1] || (s[1] === r[1] && (s[2] < r[2] || (s[2] === r[2] && es[i].id < top.id)))))) {
      top = es[i];
      r = s;
    }
  }
  return top;
}

function push<V>(m: Map<string, V[]>, k: string, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

function remove<V>(m: Map<string, V[]>, k: string, v: V): void {
  const a = m.get(k);
  if (!a) return;
  const i = a.indexOf(v);
  if (i >= 0) a.splice(i, 1);
  if (a.length === 0) m.delete(k);
}

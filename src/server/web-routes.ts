/**
 * The routes the listener app and the admin dashboard need beyond the core API, declared like every
 * other route (route.ts): seen shelves (impressions), reactions (a listen with its context, "not
 * for me" also a dislike), a track's audio with range requests (the file's path never leaves the
 * server), search, track and artist pages, weekly playlists by week and as M3U8/JSPF/XSPF, a
 * listener's history, and the dashboard's series (listens, listeners, impressions and
 * click-through per shelf per day).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ingest } from './commit.ts';
import { listenSignal, STREAM } from '../signals/index.ts';
import { DeepcutError } from '../errors.ts';
import type { Listen } from '../domain/schemas.ts';
import { pagesOf } from '../store/index.ts';
import type { Catalog } from '../serving/index.ts';
import { audioPathResolver } from '../ingest/index.ts';
import { exportPlaylist, storedWeekly, type Playlist as StoredPlaylist } from '../playlists/index.ts';
import { sharedPlaylistArchive } from '../serving/index.ts';
import { route, type RouteDef } from './route.ts';
import type { ServerContext } from './context.ts';
import { requireListener } from './listeners.ts';
import { adminRoutes } from './admin-routes.ts';
import { CoverCache } from './covers.ts';

const IdParam = z.object({ id: z.string().min(1).max(512) });
const Weekly = z.enum(['discover-weekly', 'release-radar']);
const DAY = 86_400_000;

/** Where a track's audio file is (the import's folders), per store: read once. */
const resolvers = new WeakMap<ServerContext['store'], Promise<(p: string) => string>>();
function resolveAudio(ctx: ServerContext): Promise<(p: string) => string> {
  let r = resolvers.get(ctx.store);
  if (!r) {
    r = audioPathResolver(ctx.store);
    resolvers.set(ctx.store, r);
    r.catch(() => resolvers.delete(ctx.store));
  }
  return r;
}

/** Embedded covers read so far, per store (the audio files of one catalog). */
const coverCaches = new WeakMap<ServerContext['store'], CoverCache>();
/** Tracks of an album tried for a cover when the track's own file has none. */
const ALBUM_TRIES = 8;

/** Listeners of a track in the served run (0 when the model does not count them). */
const listenersOf = (ctx: ServerContext, id: string) => ctx.state.recs?.listeners?.(id) ?? 0;

const TrackSummary = z.object({ track_id: z.string(), title: z.string(), artist_ids: z.array(z.string()), artist_names: z.array(z.string()), album: z.string().nullable(), release_date: z.string(), duration_ms: z.number(), has_audio: z.boolean() });
type TrackSummary = z.infer<typeof TrackSummary>;

function summary(c: Catalog, id: string): TrackSummary | undefined {
  const t = c.track(id);
  if (!t) return undefined;
  return { track_id: id, title: t.title, artist_ids: t.artist_ids, artist_names: t.artist_ids.map((a) => c.artistName(a) ?? a), album: t.album_id ? (c.album(t.album_id)?.title ?? null) : null, release_date: t.release_date, duration_ms: t.duration_ms, has_audio: t.audio_path !== null };
}

const KEYS = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];

/**
 * Audio features in words and units: `{ key: 'C major', tempo: '120 BPM', meter: '3/4', loudness: '−9.4 LUFS', … }`.
 * @example featureWords({ key: 0, mode: 1, tempo_bpm: 120, time_signature: 3, loudness_lufs: -9.4 }).summary // 'C major · 120 BPM · 3/4 · −9.4 LUFS'
 */
export function featureWords(f: Record<string, number>): { summary: string; items: { label: string; value: string }[] } {
  const items: { label: string; value: string }[] = [];
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  const minus = (x: number, d: number) => (x < 0 ? `−${Math.abs(x).toFixed(d)}` : x.toFixed(d));
  if (f.key !== undefined) items.push({ label: 'Key', value: `${KEYS[((Math.round(f.key) % 12) + 12) % 12]} ${f.mode === 0 ? 'minor' : 'major'}` });
  if (f.tempo_bpm !== undefined) items.push({ label: 'Tempo', value: `${Math.round(f.tempo_bpm)} BPM` });
  // the analyser's numerator: 2, 3, 4 over quarters, 6 is compound duple (6/8); 0 = too few beats to tell
  const meter = f.time_signature === undefined ? 0 : Math.round(f.time_signature);
  if (meter > 0) items.push({ label: 'Meter', value: meter === 6 ? '6/8' : `${meter}/4` });
  if (f.loudness_lufs !== undefined) items.push({ label: 'Loudness', value: `${minus(f.loudness_lufs, 1)} LUFS` });
  const summaryText = items.map((i) => i.value).join(' · ');
  if (f.energy !== undefined) items.push({ label: 'Energy', value: pct(f.energy) });
  if (f.danceability !== undefined) items.push({ label: 'Danceability', value: pct(f.danceability) });
  if (f.tempo_confidence !== undefined) items.push({ label: 'Tempo confidence', value: pct(f.tempo_confidence) });
  if (f.key_confidence !== undefined) items.push({ label: 'Key confidence', value: pct(f.key_confidence) });
  if (f.duration_s !== undefined) items.push({ label: 'Analysed clip', value: `${f.duration_s.toFixed(1)} s` });
  return { summary: summaryText, items };
}

/** The listener's time zone (the store's users row, else UTC). */
async function zoneOf(ctx: ServerContext, user: string): Promise<string> {
  return (await ctx.store.get('users', [user]).catch(() => undefined))?.time_zone ?? 'UTC';
}

const MIME: Record<string, string> = { m3u8: 'audio/x-mpegurl; charset=utf-8', jspf: 'application/jspf+json', xspf: 'application/xspf+xml', json: 'application/json' };

/** A listen for a reaction: what each action means as a play. */
function reactionListen(user: string, track: string, action: 'play' | 'like' | 'skip' | 'not-for-me', context: string, msPlayed: number | undefined, durationMs: number, at: Date): Listen {
  const full = Math.max(30_000, durationMs);
  const ms = action === 'play' ? Math.max(0, Math.round(msPlayed ?? full)) : action === 'like' ? full : Math.min(5_000, msPlayed ?? 5_000);
  return {
    listen_id: `web-${user}-${track}-${at.getTime()}-${action}`,
    user_id: user,
    track_id: track,
    started_at: at.toISOString(),
    ms_played: ms,
    reason_end: action === 'play' || action === 'like' ? 'trackdone' : 'fwdbtn',
    skipped: action === 'skip' || action === 'not-for-me',
    context,
    platform: 'deepcut-web',
  };
}

export function webRoutes(): RouteDef<any, any, any>[] {
  return [
    route({
      method: 'POST',
      url: '/v1/users/:id/home/viewed',
      summary: 'The shelves of a home answer (asked for with `?impressions=on-view`) the listener has seen: their cards are logged as impressions, each shelf once',
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      body: z.object({ request_id: z.string().min(1).max(200), shelves: z.array(z.string().min(1).max(600)).min(1).max(50) }),
      response: z.object({ logged: z.number().int() }),
      async handler({ params, body, ctx }) {
        return { logged: (await ctx.state.home?.viewed?.(params.id, body.request_id, body.shelves)) ?? 0 };
      },
    }),
    route({
      method: 'POST',
      url: '/v1/users/:id/reactions',
      summary: 'A reaction to a track: play (with ms played), like (a full play), skip, or not-for-me (a skip, and the track kept as disliked). Stored as a listen with its context (`home:<shelf>:<track>`, `playlist:<id>`) and folded into the listener\'s recommendations at once',
      tag: 'listener',
      scope: 'ingest',
      params: IdParam,
      body: z.object({ track_id: z.string().min(1).max(512), action: z.enum(['play', 'like', 'skip', 'not-for-me']), context: z.string().min(1).max(600), ms_played: z.number().int().min(0).max(86_400_000).optional() }),
      response: z.object({ listen: z.object({ listen_id: z.string(), context: z.string(), ms_played: z.number(), skipped: z.boolean() }) }),
      async handler({ params, body, ctx }) {
        await requireListener(ctx, params.id);
        const t = ctx.state.catalog.track(body.track_id);
        if (!t) throw new DeepcutError('not_found', `unknown track ${body.track_id}`);
        const l = reactionListen(params.id, body.track_id, body.action, body.context, body.ms_played, t.duration_ms, ctx.clock.now());
        await ingest(ctx, [l], 'web');
        if (body.action === 'not-for-me') {
          const d = (await ctx.store.getMeta<{ tracks?: string[]; artists?: string[] }>('dislikes', params.id)) ?? {};
          await ctx.store.putMeta('dislikes', params.id, { ...d, tracks: [...new Set([...(d.tracks ?? []), body.track_id])] });
        }
        return { listen: { listen_id: l.listen_id, context: l.context, ms_played: l.ms_played, skipped: l.skipped } };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/tracks/:id/audio',
      summary: "The track's audio file, with range requests (206 for `Range: bytes=a-b`); the file's path is never shown. 404 when the catalog has no audio for the track",
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      produces: 'audio/wav',
      async handler({ params, req, reply, ctx }) {
        const t = ctx.state.catalog.track(params.id);
        if (!t?.audio_path) throw new DeepcutError('not_found', `no audio for track ${params.id}`);
        const file = (await resolveAudio(ctx))(t.audio_path);
        const size = await stat(file).then((s) => s.size).catch(() => -1);
        if (size < 0) throw new DeepcutError('not_found', `the audio file of track ${params.id} is missing`);
        const type = /\.mp3$/i.test(file) ? 'audio/mpeg' : /\.flac$/i.test(file) ? 'audio/flac' : /\.ogg$/i.test(file) ? 'audio/ogg' : 'audio/wav';
        void reply.header('Accept-Ranges', 'bytes').header('Content-Type', type).header('Cache-Control', 'private, max-age=3600');
        const m = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''));
        if (!m || (m[1] === '' && m[2] === '')) {
          void reply.header('Content-Length', size);
          return reply.send(createReadStream(file));
        }
        let start = m[1] === '' ? size - Number(m[2]) : Number(m[1]);
        let end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
        if (start < 0) start = 0;
        if (start >= size || end < start) {
          void reply.status(416).header('Content-Range', `bytes */${size}`);
          return reply.send('');
        }
        end = Math.min(end, size - 1);
        void reply.status(206).header('Content-Range', `bytes ${start}-${end}/${size}`).header('Content-Length', end - start + 1);
        return reply.send(createReadStream(file, { start, end }));
      },
    }),
    route({
      method: 'GET',
      url: '/v1/tracks/:id/cover',
      summary: "The cover art embedded in the track's audio file (ID3v2 APIC, FLAC PICTURE, MP4 covr), else in another file of its album; 204 when the files carry none (the app draws a generated tile), 404 when the track has no audio. With an ETag (304 when unchanged); the file's path is never shown",
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      produces: 'image/jpeg',
      async handler({ params, req, reply, ctx }) {
        const c = ctx.state.catalog;
        const t = c.track(params.id);
        if (!t?.audio_path) throw new DeepcutError('not_found', `no audio for track ${params.id}`);
        const album = t.album_id ? c.tracksOf(t.artist_ids[0] ?? '').filter((id) => id !== params.id && c.track(id)!.album_id === t.album_id && c.track(id)!.audio_path) : [];
        const resolve = await resolveAudio(ctx);
        const cache = coverCaches.get(ctx.store) ?? coverCaches.set(ctx.store, new CoverCache()).get(ctx.store)!;
        let art = null;
        for (const id of [params.id, ...album.slice(0, ALBUM_TRIES)]) if ((art = await cache.of(resolve(c.track(id)!.audio_path!)))) break;
        void reply.header('Cache-Control', 'private, max-age=3600');
        if (!art) return reply.status(204).send();
        void reply.header('ETag', art.etag);
        if (req.headers['if-none-match'] === art.etag) return reply.status(304).send();
        return reply.type(art.type).send(art.data);
      },
    }),
    route({
      method: 'GET',
      url: '/v1/audio/tracks',
      summary: 'Ids of the tracks whose audio the server can play (GET /v1/tracks/{id}/audio)',
      tag: 'listener',
      scope: 'read',
      response: z.object({ track_ids: z.array(z.string()) }),
      async handler({ ctx }) {
        const c = ctx.state.catalog;
        return { track_ids: [...c.trackIds()].filter((id) => c.track(id)!.audio_path) };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/search',
      summary: 'Search the catalog by title, artist and album (case-insensitive, every word must match): tracks (most listened first) and artists',
      tag: 'listener',
      scope: 'read',
      query: z.object({ q: z.string().min(1).max(200), k: z.coerce.number().int().min(1).max(100).default(20) }),
      response: z.object({ tracks: z.array(TrackSummary), artists: z.array(z.object({ artist_id: z.string(), name: z.string() })) }),
      async handler({ query, ctx }) {
        const c = ctx.state.catalog;
        const words = query.q.toLowerCase().split(/\s+/).filter(Boolean);
        const hit = (s: string) => words.every((w) => s.includes(w));
        const tracks: string[] = [];
        for (const id of c.trackIds()) {
          const t = c.track(id)!;
          const text = `${t.title} ${t.artist_ids.map((a) => c.artistName(a) ?? '').join(' ')} ${t.album_id ? (c.album(t.album_id)?.title ?? '') : ''}`.toLowerCase();
          if (hit(text)) tracks.push(id);
        }
        const n = new Map(tracks.map((id) => [id, listenersOf(ctx, id)]));
        tracks.sort((a, b) => n.get(b)! - n.get(a)! || a.localeCompare(b));
        const artists = [...c.artistEntries()].filter(([, a]) => hit(a.name.toLowerCase())).slice(0, query.k).map(([id, a]) => ({ artist_id: id, name: a.name }));
        return { tracks: tracks.slice(0, query.k).map((id) => summary(c, id)!), artists };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/tracks/:id',
      summary: 'A track page: the track, its audio features in words and units, similar tracks',
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      response: z.object({ track: TrackSummary, listeners: z.number(), features: z.object({ summary: z.string(), items: z.array(z.object({ label: z.string(), value: z.string() })) }).nullable(), similar: z.array(TrackSummary) }),
      async handler({ params, ctx }) {
        const c = ctx.state.catalog;
        const track = summary(c, params.id);
        if (!track) throw new DeepcutError('not_found', `unknown track ${params.id}`);
        const f = await ctx.state.audio?.get(params.id);
        const similar = (ctx.state.recs?.similarTracks(params.id, 12) ?? []).map((s) => summary(c, s.track_id)).filter((s): s is TrackSummary => !!s);
        return { track, listeners: listenersOf(ctx, params.id), features: f ? featureWords(f) : null, similar };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/artists/:id',
      summary: 'An artist page: name, genres, top tracks (most listeners), releases (newest first) and similar artists',
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      response: z.object({ artist_id: z.string(), name: z.string(), genres: z.array(z.string()), top_tracks: z.array(TrackSummary), releases: z.array(z.object({ album_id: z.string(), title: z.string(), release_date: z.string(), type: z.string() })), similar: z.array(z.object({ artist_id: z.string(), name: z.string() })) }),
      async handler({ params, ctx }) {
        const c = ctx.state.catalog;
        const name = c.artistName(params.id);
        if (name === null) throw new DeepcutError('not_found', `unknown artist ${params.id}`);
        const own = c.tracksOf(params.id);
        const n = new Map(own.map((id) => [id, listenersOf(ctx, id)]));
        const top = [...own].sort((x, y) => n.get(y)! - n.get(x)! || x.localeCompare(y)).slice(0, 10);
        const albums = [...new Set(own.map((t) => c.track(t)!.album_id).filter((x): x is string => !!x))];
        const releases = albums.map((id) => ({ album_id: id, title: c.album(id)?.title ?? id, release_date: c.album(id)?.release_date ?? '', type: c.album(id)?.album_type ?? 'album' })).sort((x, y) => y.release_date.localeCompare(x.release_date));
        const similar = (ctx.state.recs?.similarArtists(params.id, 8) ?? []).map((s) => ({ artist_id: s.artist_id, name: s.name ?? c.artistName(s.artist_id) ?? s.artist_id }));
        return { artist_id: params.id, name, genres: c.artistGenres(params.id), top_tracks: top.map((t) => summary(c, t)!), releases, similar };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/users/:id/playlists/:kind/weeks',
      summary: "The weeks a listener's Discover Weekly or Release Radar was made for, newest first, with the week live today",
      tag: 'listener',
      scope: 'read',
      params: z.object({ id: z.string().min(1).max(512), kind: Weekly }),
      response: z.object({ current: z.string().nullable(), weeks: z.array(z.object({ week: z.string(), tracks: z.number() })) }),
      async handler({ params, ctx }) {
        await requireListener(ctx, params.id);
        const archive = await sharedPlaylistArchive(ctx.config);
        const weeks: { week: string; tracks: number }[] = [];
        for (const w of (await archive.weeks(params.kind)).slice(0, 12)) {
          const p = await archive.get(params.kind, w, params.id);
          if (p) weeks.push({ week: w, tracks: p.tracks.length });
        }
        const cur = await storedWeekly(archive, params.kind, params.id, await zoneOf(ctx, params.id), ctx.clock.now());
        return { current: cur?.key ?? null, weeks };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/users/:id/playlists/:kind/export',
      summary: "A listener's Discover Weekly or Release Radar (this week's, or `week`) as M3U8, JSPF or XSPF, for players and music servers",
      tag: 'listener',
      scope: 'read',
      params: z.object({ id: z.string().min(1).max(512), kind: Weekly }),
      query: z.object({ format: z.enum(['m3u8', 'jspf', 'xspf']), week: z.string().regex(/^\d{4}-\d\d-\d\d$/).optional() }),
      produces: 'audio/x-mpegurl',
      async handler({ params, query, req, reply, ctx }) {
        await requireListener(ctx, params.id);
        const archive = await sharedPlaylistArchive(ctx.config);
        const p: StoredPlaylist | undefined = query.week ? await archive.get(params.kind, query.week, params.id) : await storedWeekly(archive, params.kind, params.id, await zoneOf(ctx, params.id), ctx.clock.now());
        if (!p) throw new DeepcutError('not_found', `no ${params.kind} for ${params.id}${query.week ? ` in the week of ${query.week}` : ' in the last weeks'}`);
        // the server's file paths stay on the server: players get the URL of the track's audio route
        const base = `${req.protocol}://${req.headers.host ?? '127.0.0.1'}`;
        const shown: StoredPlaylist = { ...p, tracks: p.tracks.map(({ audioPath, ...t }) => (audioPath ? { ...t, audioPath: `${base}/v1/tracks/${encodeURIComponent(t.trackId)}/audio` } : t)) };
        void reply.header('Content-Type', MIME[query.format]).header('Content-Disposition', `attachment; filename="${params.kind}-${p.key}.${query.format}"`);
        return reply.send(exportPlaylist(shown, query.format));
      },
    }),
    route({
      method: 'GET',
      url: '/v1/users/:id/history',
      summary: "A listener's history: listens per day, top artists and genres per week (streams of 30 s or more), the latest listens",
      tag: 'listener',
      scope: 'read',
      params: IdParam,
      response: z.object({ days: z.array(z.object({ day: z.string(), listens: z.number() })), weeks: z.array(z.object({ week: z.string(), artists: z.array(z.object({ artist_id: z.string(), name: z.string(), streams: z.number() })), genres: z.array(z.object({ genre: z.string(), streams: z.number() })) })), recent: z.array(z.object({ started_at: z.string(), track: TrackSummary, context: z.string(), skipped: z.boolean() })) }),
      async handler({ params, ctx }) {
        await requireListener(ctx, params.id);
        const c = ctx.state.catalog;
        const rows = await ctx.store.list('listens', { where: { user_id: params.id }, limit: 100_000 });
        rows.sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
        const days = new Map<string, number>();
        const weeks = new Map<string, { artists: Map<string, number>; genres: Map<string, number> }>();
        for (const l of rows) {
          const at = Date.parse(l.started_at);
          const day = new Date(at).toISOString().slice(0, 10);
          days.set(day, (days.get(day) ?? 0) + 1);
          if (listenSignal(l.ms_played, l.skipped, ctx.config.signals) !== STREAM) continue;
          const monday = new Date(at - ((new Date(at).getUTCDay() + 6) % 7) * DAY).toISOString().slice(0, 10);
          const w = weeks.get(monday) ?? weeks.set(monday, { artists: new Map(), genres: new Map() }).get(monday)!;
          for (const a of c.trackArtists(l.track_id).slice(0, 1)) {
            w.artists.set(a, (w.artists.get(a) ?? 0) + 1);
            for (const g of c.artistGenres(a)) w.genres.set(g, (w.genres.get(g) ?? 0) + 1);
          }
        }
        const top = <T>(m: Map<string, number>, n: number, f: (k: string, v: number) => T) => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n).map(([k, v]) => f(k, v));
        return {
          days: [...days.entries()].map(([day, listens]) => ({ day, listens })),
          weeks: [...weeks.entries()].map(([week, w]) => ({ week, artists: top(w.artists, 5, (a, s) => ({ artist_id: a, name: c.artistName(a) ?? a, streams: s })), genres: top(w.genres, 5, (g, s) => ({ genre: g, streams: s })) })),
          recent: rows
            .slice(-20)
            .reverse()
            .flatMap((l) => {
              const t = summary(c, l.track_id);
              return t ? [{ started_at: l.started_at, track: t, context: l.context, skipped: l.skipped }] : [];
            }),
        };
      },
    }),
    route({
      method: 'GET',
      url: '/v1/admin/series',
      summary: 'Daily series for the dashboard over the last `days` days up to today: listens, active listeners, and per home shelf impressions, clicks (listens started from a home card) and click-through',
      tag: 'admin',
      scope: 'admin',
      query: z.object({ days: z.coerce.number().int().min(1).max(365).default(60) }),
      response: z.object({ today: z.string(), days: z.array(z.string()), listens: z.array(z.number()), listeners: z.array(z.number()), shelves: z.record(z.string(), z.object({ impressions: z.array(z.number()), clicks: z.array(z.number()) })) }),
      async handler({ query, ctx }) {
        // the series read every listen of the window (~0.3 CPU s on the demo world): one answer per
        // store and window, made again at most once a minute and in the background (the older one
        // answers meanwhile), so a dashboard never waits for it but on its first visit
        const minute = Math.floor(ctx.clock.now().getTime() / 60_000);
        const caches = seriesCache.get(ctx.store) ?? seriesCache.set(ctx.store, new Map()).get(ctx.store)!;
        const hit = caches.get(query.days);
        if (!hit) {
          const answer = await series(ctx, query.days);
          caches.set(query.days, { minute, answer });
          return answer;
        }
        if (hit.minute !== minute && !hit.refreshing) {
          hit.refreshing = series(ctx, query.days).then(
            (answer) => void caches.set(query.days, { minute, answer }),
            (e: unknown) => void ((hit.refreshing = undefined), ctx.log.warn({ err: (e as Error).message }, 'admin series: refresh failed; the older answer stays')),
          );
        }
        return hit.answer;
      },
    }),
    ...adminRoutes(),
  ];
}

const seriesCache = new WeakMap<ServerContext['store'], Map<number, { minute: number; answer: unknown; refreshing?: Promise<void> }>>();

async function series(ctx: ServerContext, nDays: number) {
  const query = { days: nDays };
  const now = ctx.clock.now().getTime();
  const first = Math.floor(now / DAY) * DAY - (query.days - 1) * DAY;
  const days = Array.from({ length: query.days }, (_, i) => new Date(first + i * DAY).toISOString().slice(0, 10));
  const l = await ctx.store.readListens({ since: new Date(first) });
  const listens = new Array<number>(query.days).fill(0);
  const active = days.map(() => new Set<number>());
  for (let i = 0; i < l.user.length; i++) {
    const d = Math.floor((l.startedAt[i] - first) / DAY);
    if (d < 0 || d >= query.days) continue;
    listens[d]++;
    active[d].add(l.user[i]);
  }
  const shelves: Record<string, { impressions: number[]; clicks: number[] }> = {};
  const of = (id: string) => (shelves[id.split(':')[0]] ??= { impressions: new Array(query.days).fill(0), clicks: new Array(query.days).fill(0) });
  const from = new Date(first).toISOString();
  let firstShown = Infinity;
  for await (const rows of pagesOf(ctx.store, 'impressions', { range: { field: 'shown_at', from } })) {
    for (const r of rows) {
      const at = Date.parse(r.shown_at);
      const d = Math.floor((at - first) / DAY);
      if (d >= 0 && d < query.days) of(r.shelf).impressions[d]++;
      firstShown = Math.min(firstShown, at);
    }
  }
  // clicks: listens started from a home card, read from the first impression on (none before it)
  if (firstShown !== Infinity) for await (const rows of pagesOf(ctx.store, 'listens', { range: { field: 'started_at', from: new Date(Math.floor(firstShown / DAY) * DAY).toISOString() } })) {
    for (const r of rows) {
      if (!r.context.startsWith('home:')) continue;
      const d = Math.floor((Date.parse(r.started_at) - first) / DAY);
      if (d >= 0 && d < query.days) of(r.context.slice(5)).clicks[d]++;
    }
  }
  return { today: new Date(now).toISOString(), days, listens, listeners: active.map((s) => s.size), shelves };
}

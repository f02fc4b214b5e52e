/**
 * ListenBrainz listen exports: a JSON array or JSON Lines of listens, each with `listened_at`
 * (seconds since the epoch, when the listen started), `track_metadata.artist_name`, `track_name`,
 * `release_name` and `additional_info` (`duration_ms` or `duration` in s, `recording_mbid`,
 * `artist_mbids`, `isrc`, `media_player`), read by {@link lbNamedListen} exactly as the HTTP
 * `POST /1/submit-listens` reads a submitted listen, so both give the same ids. The listener is
 * `user_name`, or `--user`.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DeepcutError } from '../../errors.ts';
import { parseJsonObject } from './own.ts';
import { HistoryEmitter } from './history.ts';
import type { NamedListen } from '../identity.ts';
import type { TrackMatcher } from '../../domain/match.ts';
import type { FileTask, ImportFormat, RecordHandler } from './types.ts';

/** Play time given to a scrobble whose track length is unknown: the default stream threshold. */
export const SCROBBLE_MS = 30_000;

export const listenBrainzFormat: ImportFormat = {
  name: 'listenbrainz',
  description: 'ListenBrainz listen export (JSON array or JSONL; a folder imports every .json/.jsonl in it, recursively)',
  async plan(path, opts) {
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new DeepcutError('not_found', 'no such file or folder', { file: path });
    const files: string[] = [];
    const walk = async (dir: string) => {
      for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (['.json', '.jsonl', '.ndjson'].includes(extname(e.name).toLowerCase())) files.push(p);
      }
    };
    if (st.isDirectory()) await walk(path);
    else files.push(path);
    if (files.length === 0) throw new DeepcutError('not_found', 'no .json or .jsonl files here', { file: path });
    return files.map((file): FileTask => ({ file, parser: 'listenbrainz', entity: 'listens', framing: 'json-auto', encoding: opts.encoding ?? 'utf8', context: { user: opts.user }, openFields: ['platform'] }));
  },
};

/** What a ListenBrainz listen says of its track (`track_metadata`), as the export and the HTTP API send it. */
export interface LbTrackMetadata {
  artist_name: string;
  track_name: string;
  release_name?: string | null;
  additional_info?: Record<string, unknown> | null;
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * The one reading of a ListenBrainz listen, shared by the importer and `POST /1/submit-listens`:
 * a listen of `user` that started at `listenedAtS` (seconds since the epoch; its integer part is the
 * stamp of the listen id). ListenBrainz counts a listen after 4 minutes or half the track, so it is
 * a full play: `ms_played` is the duration when sent, else `fallbackMs` (one counted stream).
 */
export function lbNamedListen(user: string, listenedAtS: number, m: LbTrackMetadata, fallbackMs = SCROBBLE_MS): NamedListen {
  const info = m.additional_info ?? {};
  const durationMs = typeof info.duration_ms === 'number' && info.duration_ms > 0 ? info.duration_ms : typeof info.duration === 'number' && info.duration > 0 ? info.duration * 1000 : undefined;
  const mbids = Array.isArray(info.artist_mbids) ? info.artist_mbids.filter((x): x is string => typeof x === 'string' && x.trim() !== '') : [];
  return {
    user,
    artist: m.artist_name,
    track: m.track_name,
    album: str(m.release_name),
    artistMbids: mbids.length ? mbids : undefined,
    recordingMbid: str(info.recording_mbid),
    isrc: str(info.isrc),
    startedMs: listenedAtS * 1000,
    stamp: String(Math.floor(listenedAtS)),
    msPlayed: durationMs !== undefined ? Math.round(durationMs) : fallbackMs,
    durationMs,
    reasonEnd: 'trackdone',
    skipped: false,
    context: 'unknown',
    platform: str(info.media_player) ?? str(info.listening_from) ?? str(info.submission_client) ?? 'listenbrainz',
  };
}

export function listenBrainzHandler(context: Record<string, unknown>, matcher?: TrackMatcher): RecordHandler {
  const fallbackUser = typeof context.user === 'string' && context.user.trim() ? context.user.trim() : undefined;
  const emitter = new HistoryEmitter(
    {
      time: 'listened_at',
      msPlayed: 'track_metadata.additional_info.duration_ms',
      duration: 'track_metadata.additional_info.duration_ms',
      artist: 'track_metadata.artist_name',
      track: 'track_metadata.track_name',
      album: 'track_metadata.release_name',
      platform: 'track_metadata.additional_info.media_player',
    },
    matcher,
  );
  return {
    record(text, _line, out) {
      const o = parseJsonObject(text, 'listens', out);
      if (!o) return;
      const user = typeof o.user_name === 'string' && o.user_name.trim() ? o.user_name.trim() : fallbackUser;
      if (!user) {
        out.reject('listens', 'user_name', 'missing', 'the listen has no user_name: pass --user <user_id>');
        return;
      }
      const at = o.listened_at;
      const atMs = typeof at === 'number' ? at * 1000 : typeof at === 'string' ? (/^\d+$/.test(at) ? Number(at) * 1000 : Date.parse(at)) : NaN;
      if (!Number.isFinite(atMs)) {
        out.reject('listens', 'listened_at', at === undefined || at === null ? 'missing' : 'wrong_type', `expected seconds since the epoch, got ${JSON.stringify(at)}`);
        return;
      }
      const tm = o.track_metadata;
      if (!tm || typeof tm !== 'object' || Array.isArray(tm)) {
        out.reject('listens', 'track_metadata', tm === undefined || tm === null ? 'missing' : 'wrong_type', 'expected an object with artist_name and track_name');
        return;
      }
      const m = tm as Record<string, unknown>;
      for (const k of ['artist_name', 'track_name'] as const) {
        if (typeof m[k] !== 'string' || !(m[k] as string).trim()) {
          out.reject('listens', `track_metadata.${k}`, m[k] === undefined || m[k] === null ? 'missing' : 'wrong_type', 'expected a non-empty string');
          return;
        }
      }
      const info = m.additional_info && typeof m.additional_info === 'object' && !Array.isArray(m.additional_info) ? (m.additional_info as Record<string, unknown>) : undefined;
      const named = lbNamedListen(user, atMs / 1000, { artist_name: m.artist_name as string, track_name: m.track_name as string, release_name: typeof m.release_name === 'string' ? m.release_name : undefined, additional_info: info });
      emitter.emit(named, out);
    },
    async finish(out) {
      emitter.finish(out);
    },
  };
}

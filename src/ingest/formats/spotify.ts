/**
 * Spotify's personal data exports: the Extended Streaming History (`Streaming_History_Audio_*.json`,
 * older `endsong_*.json`) and the short account-data history (`StreamingHistory*.json`). Both are
 * JSON arrays of streams described by names; artists, albums and tracks are created from the names
 * (see {@link HistoryEmitter}). The listener is `--user`.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DeepcutError } from '../../errors.ts';
import { parseJsonObject } from './own.ts';
import { HistoryEmitter } from './history.ts';
import { isIsoInstant } from '../../domain/schemas.ts';
import type { FileTask, FormatOptions, ImportFormat, RecordHandler } from './types.ts';
import type { TrackMatcher } from '../../domain/match.ts';

const EXTENDED = /^(Streaming_History_Audio_.*|endsong_.*)\.json$/i;
const ACCOUNT = /^StreamingHistory.*\.json$/i;
const VIDEO = /^Streaming_History_Video_.*\.json$/i;

/** Spotify `reason_end` values deepcut does not list, mapped onto the ones it does. */
const REASON_ALIASES: Record<string, string> = { 'unexpected-exit-while-paused': 'unexpected-exit' };

function needUser(opts: FormatOptions): string {
  const user = opts.user?.trim();
  if (!user) throw new DeepcutError('invalid_input', 'a Spotify export does not say whose history it is: pass --user <user_id>', { field: '--user' });
  return user;
}

export const spotifyFormat: ImportFormat = {
  name: 'spotify-history',
  description: 'Spotify Extended Streaming History (Streaming_History_Audio_*.json) or account-data StreamingHistory*.json; needs --user',
  async plan(path, opts) {
    const user = needUser(opts);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new DeepcutError('not_found', 'no such file or folder', { file: path });
    const files: string[] = [];
    if (st.isDirectory()) {
      for (const name of (await readdir(path)).sort()) if ((EXTENDED.test(name) || ACCOUNT.test(name)) && !VIDEO.test(name)) files.push(join(path, name));
      if (files.length === 0) throw new DeepcutError('not_found', 'no Streaming_History_Audio_*.json or StreamingHistory*.json files here', { file: path });
    } else files.push(path);
    return files.map((file): FileTask => ({
      file,
      parser: ACCOUNT.test(basename(file)) ? 'spotify-account' : 'spotify-extended',
      entity: 'listens',
      framing: 'json-auto',
      encoding: opts.encoding ?? 'utf8',
      context: { user },
      openFields: ['platform'],
    }));
  },
};

/** One object of the Extended Streaming History. */
export function spotifyExtendedHandler(context: Record<string, unknown>, matcher?: TrackMatcher): RecordHandler {
  const user = context.user as string;
  const emitter = new HistoryEmitter(
    {
      time: 'ts',
      msPlayed: 'ms_played',
      artist: 'master_metadata_album_artist_name',
      track: 'master_metadata_track_name',
      album: 'master_metadata_album_album_name',
      platform: 'platform',
    },
    matcher,
  );
  return {
    record(text, _line, out) {
      const o = parseJsonObject(text, 'listens', out);
      if (!o) return;
      const track = o.master_metadata_track_name;
      const artist = o.master_metadata_album_artist_name;
      if (typeof track !== 'string' || typeof artist !== 'string' || !track.trim() || !artist.trim()) {
        const what = o.episode_name || o.spotify_episode_uri ? 'a podcast episode' : o.audiobook_title ? 'an audiobook' : 'a stream without track metadata';
        out.reject('listens', typeof track === 'string' && track.trim() ? 'master_metadata_album_artist_name' : 'master_metadata_track_name', 'unsupported', `${what}, not a music track`);
        return;
      }
      const ts = o.ts;
      if (typeof ts !== 'string') {
        out.reject('listens', 'ts', ts === undefined || ts === null ? 'missing' : 'wrong_type', 'expected the stream end time as an ISO 8601 string');
        return;
      }
      if (!isIsoInstant(ts)) {
        out.reject('listens', 'ts', 'invalid_value', `expected the stream end time as an ISO 8601 instant with a zone, e.g. 2024-05-01T12:00:00Z, got ${JSON.stringify(ts.slice(0, 80))}`);
        return;
      }
      const ms = o.ms_played;
      if (typeof ms !== 'number') {
        out.reject('listens', 'ms_played', ms === undefined || ms === null ? 'missing' : 'wrong_type', `expected a number of milliseconds, got ${JSON.stringify(ms)}`);
        return;
      }
      const reason = typeof o.reason_end === 'string' ? (REASON_ALIASES[o.reason_end] ?? o.reason_end) : undefined;
      emitter.emit(
        {
          user,
          artist,
          track,
          album: typeof o.master_metadata_album_album_name === 'string' && o.master_metadata_album_album_name.trim() ? o.master_metadata_album_album_name : undefined,
          startedMs: Date.parse(ts) - ms, // `ts` is when the stream ended
          stamp: ts,
          msPlayed: ms,
          reasonEnd: reason,
          skipped: typeof o.skipped === 'boolean' ? o.skipped : undefined,
          platform: typeof o.platform === 'string' ? o.platform : undefined,
        },
        out,
      );
    },
    async finish(out) {
      emitter.finish(out);
    },
  };
}

/** One object of the account-data history: endTime (`2019-02-01 13:45`, UTC), artistName, trackName, msPlayed. */
export function spotifyAccountHandler(context: Record<string, unknown>, matcher?: TrackMatcher): RecordHandler {
  const user = context.user as string;
  const emitter = new HistoryEmitter({ time: 'endTime', msPlayed: 'msPlayed', artist: 'artistName', track: 'trackName' }, matcher);
  return {
    record(text, _line, out) {
      const o = parseJsonObject(text, 'listens', out);
      if (!o) return;
      for (const k of ['endTime', 'artistName', 'trackName'] as const) {
        if (typeof o[k] !== 'string' || !(o[k] as string).trim()) {
          out.reject('listens', k, o[k] === undefined || o[k] === null ? 'missing' : 'wrong_type', 'expected a non-empty string');
          return;
        }
      }
      if (typeof o.msPlayed !== 'number') {
        out.reject('listens', 'msPlayed', o.msPlayed === undefined || o.msPlayed === null ? 'missing' : 'wrong_type', `expected a number of milliseconds, got ${JSON.stringify(o.msPlayed)}`);
        return;
      }
      const end = o.endTime as string;
      const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/.test(end) ? end.replace(' ', 'T') + ':00Z' : end;
      const endMs = isIsoInstant(iso) ? Date.parse(iso) : NaN;
      if (Number.isNaN(endMs)) {
        out.reject('listens', 'endTime', 'wrong_type', `expected "YYYY-MM-DD HH:MM" (UTC), got ${JSON.stringify(end)}`);
        return;
      }
      emitter.emit({ user, artist: o.artistName as string, track: o.trackName as string, startedMs: endMs - o.msPlayed, stamp: end, msPlayed: o.msPlayed }, out);
    },
    async finish(out) {
      emitter.finish(out);
    },
  };
}

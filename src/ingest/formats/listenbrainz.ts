/**
 * ListenBrainz listen exports: a JSON array or JSON Lines of listens, each with `listened_at`
 * (seconds since the epoch, when the listen started), `track_metadata.artist_name`, `track_name`,
 * `release_name` and `additional_info` (`duration_ms` or `duration` in s, `recording_mbid`,
 * `artist_mbids`, `media_player`). A scrobble has no play time: `ms_played` is the track's duration
 * when known, else 30,000 (one counted stream). The listener is `user_name`, or `--user`.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DeepcutError } from '../../errors.ts';
import { parseJsonObject } from './own.ts';
import { HistoryEmitter } from './history.ts';
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

export function listenBrainzHandler(context: Record<string, unknown>): RecordHandler {
  const fallbackUser = typeof context.user === 'string' && context.user.trim() ? context.user.trim() : undefined;
  const emitter = new HistoryEmitter({
    time: 'listened_at',
    msPlayed: 'track_metadata.additional_info.duration_ms',
    duration: 'track_metadata.additional_info.duration_ms',
    artist: 'track_metadata.artist_name',
    track: 'track_metadata.track_name',
    album: 'track_metadata.release_name',
    platform: 'track_metadata.additional_info.media_player',
  });
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
      const info = (m.additional_info && typeof m.additional_info === 'object' ? m.additional_info : {}) as Record<string, unknown>;
      const durationMs = typeof info.duration_ms === 'number' ? info.duration_ms : typeof info.duration === 'number' ? info.duration * 1000 : undefined;
      const mbids = Array.isArray(info.artist_mbids) ? info.artist_mbids : [];
      const player = typeof info.media_player === 'string' ? info.media_player : typeof info.submission_client === 'string' ? info.submission_client : undefined;
      emitter.emit(
        {
          user,
          artist: m.artist_name as string,
          track: m.track_name as string,
          album: typeof m.release_name === 'string' && m.release_name.trim() ? m.release_name : undefined,
          artistMbid: mbids.length === 1 && typeof mbids[0] === 'string' ? mbids[0] : undefined,
          startedMs: atMs,
          stamp: String(at),
          msPlayed: durationMs !== undefined && durationMs > 0 ? Math.round(durationMs) : SCROBBLE_MS,
          durationMs,
          platform: player,
        },
        out,
      );
    },
  };
}

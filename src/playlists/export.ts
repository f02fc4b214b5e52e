/**
 * Playlist export for players and music servers: JSON (deepcut's own), JSPF (XSPF as JSON),
 * XSPF (XML) and M3U8 (extended M3U in UTF-8, with file paths where the audio is local).
 */
import type { Playlist } from './types.ts';
import { DeepcutError } from '../errors.ts';

export const exportFormats = ['json', 'jspf', 'xspf', 'm3u8'] as const;
export type ExportFormat = (typeof exportFormats)[number];

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** Render a playlist in `format`; throws DeepcutError('invalid_input') for an unknown format. */
export function exportPlaylist(p: Playlist, format: string): string {
  switch (format) {
    case 'json':
      return JSON.stringify(p, null, 2) + '\n';
    case 'jspf':
      return (
        JSON.stringify(
          {
            playlist: {
              title: p.title,
              creator: 'deepcut',
              identifier: `deepcut:${p.id}`,
              date: p.createdAt,
              annotation: `run ${p.runId}`,
              track: p.tracks.map((t) => ({
                title: t.title,
                creator: t.artists.join(', '),
                duration: t.durationMs,
                identifier: [`deepcut:track:${t.trackId}`],
                annotation: t.reason,
                ...(t.audioPath ? { location: [fileUri(t.audioPath)] } : {}),
              })),
            },
          },
          null,
          2,
        ) + '\n'
      );
    case 'xspf':
      return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<playlist version="1" xmlns="http://xspf.org/ns/0/">',
        `  <title>${xml(p.title)}</title>`,
        '  <creator>deepcut</creator>',
        `  <identifier>deepcut:${xml(p.id)}</identifier>`,
        `  <date>${xml(p.createdAt)}</date>`,
        '  <trackList>',
        ...p.tracks.map((t) =>
          [
            '    <track>',
            ...(t.audioPath ? [`      <location>${xml(fileUri(t.audioPath))}</location>`] : []),
            `      <identifier>deepcut:track:${xml(t.trackId)}</identifier>`,
            `      <title>${xml(t.title)}</title>`,
            `      <creator>${xml(t.artists.join(', '))}</creator>`,
            `      <annotation>${xml(t.reason)}</annotation>`,
            `      <duration>${t.durationMs}</duration>`,
            '    </track>',
          ].join('\n'),
        ),
        '  </trackList>',
        '</playlist>',
        '',
      ].join('\n');
    case 'm3u8':
      return [
        '#EXTM3U',
        `#PLAYLIST:${p.title}`,
        ...p.tracks.flatMap((t) => [`#EXTINF:${Math.round(t.durationMs / 1000)},${t.artists.join(', ')} - ${t.title}`, t.audioPath ?? `deepcut:track:${t.trackId}`]),
        '',
      ].join('\n');
    default:
      throw new DeepcutError('invalid_input', `unknown playlist format "${format}"; expected one of ${exportFormats.join(', ')}`, { field: 'format' });
  }
}

function fileUri(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return path;
  return 'file://' + encodeURI(path.startsWith('/') ? path : `/${path}`);
}

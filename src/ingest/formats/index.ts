/** Every import format, and every record parser by name (for import and quarantine replay). */
import { csvFormat, csvHandler, jsonlFormat, jsonlHandler } from './own.ts';
import { spotifyAccountHandler, spotifyExtendedHandler, spotifyFormat } from './spotify.ts';
import { listenBrainzFormat, listenBrainzHandler } from './listenbrainz.ts';
import { hetrecArtistsHandler, hetrecFormat, hetrecFriendsHandler, hetrecTagsHandler, hetrecUserArtistsHandler } from './hetrec.ts';
import { interactionsFormat, interactionsHandler } from './interactions.ts';
import { openBanditFormat, openBanditHandler } from './open-bandit.ts';
import { parquetFormat } from './parquet.ts';
import type { ImportFormat, ParserFactory } from './types.ts';

export const formats: ImportFormat[] = [jsonlFormat, csvFormat, spotifyFormat, listenBrainzFormat, hetrecFormat, interactionsFormat, openBanditFormat, parquetFormat];

export const parsers: Record<string, ParserFactory> = {
  jsonl: async (c) => jsonlHandler(c),
  csv: async (c) => csvHandler(c),
  'spotify-extended': async (c, env) => spotifyExtendedHandler(c, env?.matcher),
  'spotify-account': async (c, env) => spotifyAccountHandler(c, env?.matcher),
  listenbrainz: async (c, env) => listenBrainzHandler(c, env?.matcher),
  'hetrec-artists': async () => hetrecArtistsHandler(),
  'hetrec-user-artists': async () => hetrecUserArtistsHandler(),
  'hetrec-tags': async (c) => hetrecTagsHandler(c),
  'hetrec-friends': async () => hetrecFriendsHandler(),
  interactions: async (c) => interactionsHandler(c),
  'open-bandit': async (c) => openBanditHandler(c),
  // Parquet rows judged one by one are read as deepcut JSON objects (ingest/bulk.ts)
  parquet: async (c) => jsonlHandler(c),
};

export function formatByName(name: string): ImportFormat | undefined {
  return formats.find((f) => f.name === name);
}

/**
 * The HetRec 2011 Last.fm 2K folder (tab-separated, one header row each):
 * - `artists.dat` (id, name, url, pictureURL) → artists `lastfm:artist:<id>`;
 * - `user_artists.dat` (userID, artistID, weight = play count) → users `lastfm:user:<id>` and
 *   interactions (item_kind `artist`, weight = plays): how aggregated counts reach the CF;
 * - `user_taggedartists.dat` with `tags.dat` (Latin-1) → one tag document per artist
 *   (`lastfm:tags:<artistID>`), its body every tag applied to the artist, repeated once per user
 *   who applied it, most applied first;
 * - `user_friends.dat` → store meta `relations/lastfm-friends` (user → friend ids): users follow
 *   artists in deepcut's model, so a user–user relation has no entity of its own.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DeepcutError } from '../../errors.ts';
import { readLines } from '../../util/lines.ts';
import type { FileTask, ImportFormat, RecordHandler, Sink } from './types.ts';

export const lastfmArtist = (id: string) => `lastfm:artist:${id}`;
export const lastfmUser = (id: string) => `lastfm:user:${id}`;

const FILES = [
  { name: 'artists.dat', parser: 'hetrec-artists', entity: 'artists' },
  { name: 'user_artists.dat', parser: 'hetrec-user-artists', entity: 'interactions' },
  { name: 'user_taggedartists.dat', parser: 'hetrec-tags', entity: 'documents' },
  { name: 'user_friends.dat', parser: 'hetrec-friends', entity: 'users' },
] as const;

export const hetrecFormat: ImportFormat = {
  name: 'hetrec-lastfm',
  description: 'HetRec 2011 Last.fm 2K folder: artists, user–artist play counts (as interactions), tag documents, friendships',
  async plan(path) {
    const st = await stat(path).catch(() => undefined);
    if (!st?.isDirectory()) throw new DeepcutError('not_found', 'expected the hetrec2011-lastfm-2k folder', { file: path });
    const tasks: FileTask[] = [];
    for (const f of FILES) {
      const file = join(path, f.name);
      if (!(await stat(file).catch(() => undefined))) {
        if (f.name === 'user_artists.dat' || f.name === 'artists.dat') throw new DeepcutError('not_found', `missing ${f.name}`, { file: path });
        continue;
      }
      tasks.push({ file, parser: f.parser, entity: f.entity, framing: 'lines', encoding: 'utf8', context: { folder: path } });
    }
    return tasks;
  },
};

/** Split a .dat line into `n` tab-separated cells; rejects and returns undefined on a bad count. */
function cells(text: string, names: string[], entity: string, out: Sink): string[] | undefined {
  const c = text.split('\t');
  if (c.length < names.length) {
    out.reject(entity, names[c.length], 'invalid_csv', `${c.length} tab-separated columns, expected ${names.length} (${names.join(', ')})`);
    return undefined;
  }
  return c;
}

const isHeader = (text: string, line: number) => line === 1 || !/^\d/.test(text);

function idCell(v: string, field: string, entity: string, out: Sink): boolean {
  if (/^\d+$/.test(v.trim())) return true;
  out.reject(entity, field, 'wrong_type', `expected a numeric id, got ${JSON.stringify(v)}`);
  return false;
}

export function hetrecArtistsHandler(): RecordHandler {
  const names = ['id', 'name', 'url', 'pictureURL'];
  return {
    record(text, line, out) {
      if (line === 1 && isHeader(text, line)) return;
      const c = cells(text, names.slice(0, 2), 'artists', out);
      if (!c || !idCell(c[0], 'id', 'artists', out)) return;
      out.row('artists', { artist_id: lastfmArtist(c[0].trim()), name: c[1] });
    },
  };
}

export function hetrecUserArtistsHandler(): RecordHandler {
  const names = ['userID', 'artistID', 'weight'];
  const users = new Set<string>();
  return {
    record(text, line, out) {
      if (line === 1 && isHeader(text, line)) return;
      const c = cells(text, names, 'interactions', out);
      if (!c || !idCell(c[0], 'userID', 'interactions', out) || !idCell(c[1], 'artistID', 'interactions', out)) return;
      const user = lastfmUser(c[0].trim());
      if (!users.has(user)) {
        users.add(user);
        out.row('users', { user_id: user });
      }
      const w = c[2].trim();
      out.row('interactions', { user_id: user, item_id: lastfmArtist(c[1].trim()), item_kind: 'artist', weight: w === '' ? undefined : Number.isFinite(Number(w)) ? Number(w) : w });
    },
  };
}

/** Read tags.dat (Latin-1) into id → tag; bad lines are sent to `out` when it is given. */
async function readTags(folder: string, out?: Sink): Promise<Map<string, string>> {
  const file = join(folder, 'tags.dat');
  const tags = new Map<string, string>();
  if (!(await stat(file).catch(() => undefined))) return tags;
  for await (const frames of readLines(file, { encoding: 'latin1' })) {
    for (const f of frames) {
      if (f.text.trim() === '' || (f.line === 1 && !/^\d/.test(f.text))) continue;
      const [id, value] = f.text.split('\t');
      if (!id || !/^\d+$/.test(id) || value === undefined || !value.trim()) out?.reject('documents', 'tagValue', 'invalid_csv', 'expected tagID<TAB>tagValue', { file, line: f.line, raw: f.text });
      else tags.set(id, value.trim());
    }
  }
  return tags;
}

export function hetrecTagsHandler(context: Record<string, unknown>): RecordHandler {
  const folder = context.folder as string;
  const names = ['userID', 'artistID', 'tagID', 'day', 'month', 'year'];
  const perArtist = new Map<string, Map<string, number>>();
  const firstLine = new Map<string, number>();
  let tags: Map<string, string> | undefined;
  const pendingRejects: { text: string; line: number; field: string; reason: string }[] = [];
  return {
    aggregates: true,
    record(text, line, _out) {
      if (line === 1 && isHeader(text, line)) return;
      const c = text.split('\t');
      if (c.length < 3 || !/^\d+$/.test(c[1]) || !/^\d+$/.test(c[2])) {
        pendingRejects.push({ text, line, field: names[Math.min(c.length, 2)], reason: `expected ${names.join(', ')} (tab-separated, numeric ids)` });
        return;
      }
      let m = perArtist.get(c[1]);
      if (!m) {
        perArtist.set(c[1], (m = new Map()));
        firstLine.set(c[1], line);
      }
      m.set(c[2], (m.get(c[2]) ?? 0) + 1);
    },
    async finish(out) {
      tags = await readTags(folder, out);
      for (const r of pendingRejects) out.reject('documents', r.field, 'invalid_csv', r.reason, { line: r.line, raw: r.text });
      for (const [artist, counts] of perArtist) {
        const known = [...counts].filter(([t]) => tags!.has(t));
        const unknown = [...counts].filter(([t]) => !tags!.has(t));
        const doc = {
          document_id: `lastfm:tags:${artist}`,
          subject_kind: 'artist',
          subject_id: lastfmArtist(artist),
          source: 'lastfm-tags',
          title: 'Last.fm tags',
          body: known
            .sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]))
            .flatMap(([t, n]) => Array<string>(n).fill(tags!.get(t)!))
            .join(', '),
        };
        // the document is kept (and replayed) as a deepcut JSON line, located at the artist's first tag assignment
        out.locate(firstLine.get(artist)!, JSON.stringify(doc), 'jsonl');
        if (unknown.length) out.reject('documents', 'tagID', 'unknown_id', `tag ids not in tags.dat: ${unknown.map(([t]) => t).join(', ')}`);
        else out.row('documents', doc);
      }
    },
  };
}

export function hetrecFriendsHandler(): RecordHandler {
  const friends = new Map<string, string[]>();
  let pairs = 0;
  return {
    aggregates: true,
    record(text, line, out) {
      if (line === 1 && isHeader(text, line)) return;
      const c = cells(text, ['userID', 'friendID'], 'users', out);
      if (!c || !idCell(c[0], 'userID', 'users', out) || !idCell(c[1], 'friendID', 'users', out)) return;
      const u = lastfmUser(c[0].trim());
      let l = friends.get(u);
      if (!l) friends.set(u, (l = []));
      l.push(lastfmUser(c[1].trim()));
      pairs++;
    },
    async finish(out, store) {
      await store.putMeta('relations', 'lastfm-friends', { pairs, users: Object.fromEntries(friends) });
      out.note('friend pairs (store meta relations/lastfm-friends)', pairs);
    },
  };
}

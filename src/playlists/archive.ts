/**
 * The playlist archive: one JSONL file per kind and date under `<home>/playlists/<kind>/<date>.jsonl`,
 * one playlist per line. A week's Discover Weekly and Release Radar are written once and read back
 * for the rest of the week (stable across daily retrains); past weeks stay on disk.
 */
import { mkdir, readFile, rename } from 'node:fs/promises';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Playlist } from './types.ts';
import { addDays } from '../core/clock.ts';
import { weeklyKey, type WeeklyKind } from './product.ts';

/** Weeks back a weekly playlist is looked for when this week's is not made yet (the job runs on its day). */
export const WEEKS_BACK = 4;

export class PlaylistArchive {
  private readonly cache = new Map<string, Map<string, Playlist>>();
  private readonly dirty = new Set<string>();

  constructor(private readonly home: string) {}

  private file(kind: string, date: string): string {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`archive: bad date ${date}`);
    return join(this.home, 'playlists', kind, `${date}.jsonl`);
  }

  private async day(kind: string, date: string): Promise<Map<string, Playlist>> {
    const f = this.file(kind, date);
    let m = this.cache.get(f);
    if (!m) {
      m = new Map();
      if (existsSync(f)) {
        // line by line, for the same reason as flush
        for await (const line of createInterface({ input: createReadStream(f), crlfDelay: Infinity })) {
          if (!line) continue;
          const p = JSON.parse(line) as Playlist;
          m.set(p.userId ?? p.key, p);
        }
      }
      this.cache.set(f, m);
    }
    return m;
  }

  /** The stored playlist of `user` for `date`, if any. */
  async get(kind: Playlist['kind'], date: string, user: string): Promise<Playlist | undefined> {
    return (await this.day(kind, date)).get(user);
  }

  /** Keep `p` (in memory until {@link flush}). */
  async put(kind: Playlist['kind'], date: string, user: string, p: Playlist): Promise<void> {
    (await this.day(kind, date)).set(user, p);
    this.dirty.add(this.file(kind, date));
  }

  /** Write every changed day file atomically. */
  async flush(): Promise<void> {
    for (const f of this.dirty) {
      const m = this.cache.get(f)!;
      await mkdir(join(f, '..'), { recursive: true });
      const tmp = `${f}.${process.pid}.tmp`;
      // line by line: a day of 100,000 listeners' lists is more than one string can hold (~512 MB)
      const out = createWriteStream(tmp);
      for (const p of m.values()) if (!out.write(JSON.stringify(p) + '\n')) await once(out, 'drain');
      await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
      await rename(tmp, f);
    }
    this.dirty.clear();
  }
}

/**
 * The weekly playlist of `kind` a listener sees at `at`: this week's stored list (week keyed by
 * its Monday or Friday in zone `tz`), else the latest stored in the {@link WEEKS_BACK} weeks
 * before (this week's job has not run yet). The API and the CLI both read weekly lists here.
 * @example await storedWeekly(new PlaylistArchive(home), 'discover-weekly', 'u1', 'Europe/Paris', new Date())
 */
export async function storedWeekly(archive: PlaylistArchive, kind: WeeklyKind, user: string, tz: string, at: Date): Promise<Playlist | undefined> {
  const date = weeklyKey(kind, at, tz);
  for (let back = 0; back <= WEEKS_BACK; back++) {
    const p = await archive.get(kind, addDays(date, -7 * back), user);
    if (p) return p;
  }
  return undefined;
}

/** A run's playlists by listener, each listener's parsed when asked for. */
export interface RunPlaylists {
  /** The listener's playlists in file order, or undefined when the file has none for them. */
  get(user: string): Playlist[] | undefined;
}

/**
 * A run's playlists file (`<run>/playlists/<kind>.jsonl`, one playlist a line with its `"userId"`),
 * read once and indexed by listener as slices of the file: only the lines of a listener asked for
 * are parsed (the Daily Mixes of the default demo world are tens of MB). Empty when absent.
 */
export async function readRunPlaylists(file: string): Promise<RunPlaylists> {
  const byUser = new Map<string, Buffer[]>();
  if (existsSync(file)) {
    const buf = await readFile(file);
    const key = Buffer.from('"userId":"');
    for (let at = 0; at < buf.length; ) {
      let end = buf.indexOf(10, at);
      if (end < 0) end = buf.length;
      const k = buf.indexOf(key, at);
      if (k >= 0 && k < end) {
        const from = k + key.length;
        let q = buf.indexOf(34, from); // the closing quote: the first one not escaped
        while (q > 0 && buf[q - 1] === 92 && !evenBackslashes(buf, q - 1)) q = buf.indexOf(34, q + 1);
        const user = JSON.parse(`"${buf.toString('utf8', from, q)}"`) as string;
        const list = byUser.get(user) ?? [];
        list.push(buf.subarray(at, end));
        byUser.set(user, list);
      }
      at = end + 1;
    }
  }
  return { get: (user) => byUser.get(user)?.map((line) => JSON.parse(line.toString('utf8')) as Playlist) };
}

/** Whether the run of backslashes ending at `i` (inclusive) is of even length. */
function evenBackslashes(buf: Buffer, i: number): boolean {
  let n = 0;
  while (i - n >= 0 && buf[i - n] === 92) n++;
  return n % 2 === 0;
}

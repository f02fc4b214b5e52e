/**
 * The playlist archive: the weekly lists (Discover Weekly, Release Radar) as they were made, kept
 * in blob storage (the artifact store, `artifacts.url`) so that every node of a fleet reads the
 * same weeks. A week's list is written once and read back for the rest of the week (stable across
 * daily retrains); past weeks stay.
 *
 * Layout: `playlists/<kind>/<date>/<bucket>/<writer>.jsonl`, one playlist a line, where `bucket`
 * (00–0f) is a hash of the listener's id and `writer` names the flush that wrote it (the run).
 * A flush writes new objects for the lists it was given and never rewrites a day; a listener's
 * list is read from the objects of their bucket only (a sixteenth of the day), and only their
 * lines are parsed. Objects are immutable, so a node keeps those it read in its local cache.
 * `playlists/<kind>/<date>.jsonl` (one file a day, before this layout) is still read.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Playlist } from './types.ts';
import { addDays } from '../core/clock.ts';
import { weeklyKey, type WeeklyKind } from './product.ts';

/** Weeks back a weekly playlist is looked for when this week's is not made yet (the job runs on its day). */
export const WEEKS_BACK = 4;
/** Buckets a day's lists are cut into by listener. */
const BUCKETS = 16;
/** Bytes of objects one archive holds in memory at most (default), the least recently read dropped first. */
const MAX_HELD_BYTES = 256 * 1024 * 1024;

/** What the archive needs of blob storage: the artifact store (src/artifacts) has it. */
export interface ArchiveBlobs {
  readonly url: string;
  put(key: string, source: { bytes: Uint8Array }): Promise<unknown>;
  get(key: string): Promise<Readable>;
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  close(): Promise<void>;
}

export interface ArchiveOptions {
  /** Name of the objects a flush writes (a run id: a re-run's flush writes the same keys); default a fresh time-ordered name. */
  writer?: string;
  /** Keep objects read from remote storage here (`<home>/cache/playlists`); unset = read each time. */
  cacheDir?: string;
  /** A day's object listing is read again after this many ms (default 60 s): another node's new lists appear. */
  listTtlMs?: number;
  /** Bytes of objects held in memory at most (default 256 MB; a node's disk cache keeps the rest). */
  maxHeldBytes?: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const NEWLINE = Buffer.from('\n');

/** The bucket of a listener (FNV-1a of the id's UTF-8 bytes), as two hex digits. */
export function archiveBucket(user: string): string {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(user, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return (h % BUCKETS).toString(16).padStart(2, '0');
}

export class PlaylistArchive {
  /** Lists put and not flushed yet, by `<kind>/<date>`, then listener. */
  private readonly pending = new Map<string, Map<string, Playlist>>();
  /** Object keys of a day, by `<kind>/<date>`, with when they were listed. */
  private readonly days = new Map<string, { at: number; keys: string[] }>();
  /** Objects read: listener → their line, with the object's size; least recently read first. */
  private readonly parts = new Map<string, { lines: Map<string, Buffer>; bytes: number }>();
  private held = 0;
  private readonly writer: string;

  constructor(
    private readonly blobs: ArchiveBlobs,
    private readonly o: ArchiveOptions = {},
  ) {
    this.writer = o.writer ?? `${new Date().toISOString().replace(/[-:.]/g, '')}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  private static day(kind: string, date: string): string {
    if (!DATE.test(date)) throw new Error(`archive: bad date ${date}`);
    return `${kind}/${date}`;
  }

  /** The object keys of a day, in key order (the one-file day first). */
  private async keysOf(day: string): Promise<string[]> {
    const got = this.days.get(day);
    if (got && Date.now() - got.at < (this.o.listTtlMs ?? 60_000)) return got.keys;
    const keys = (await this.blobs.list(`playlists/${day}`)).map((i) => i.key).filter((k) => k === `playlists/${day}.jsonl` || k.startsWith(`playlists/${day}/`));
    this.days.set(day, { at: Date.now(), keys });
    return keys;
  }

  /** An object's lines by listener (read once, kept; from the local cache when there is one). */
  private async part(key: string): Promise<Map<string, Buffer>> {
    const got = this.parts.get(key);
    if (got) {
      this.parts.delete(key); // most recently read last
      this.parts.set(key, got);
      return got.lines;
    }
    const buf = await this.bytes(key);
    const max = this.o.maxHeldBytes ?? MAX_HELD_BYTES;
    for (const [k, p] of this.parts) {
      if (this.held + buf.length <= max) break;
      this.parts.delete(k);
      this.held -= p.bytes;
    }
    const lines = indexLines(buf);
    this.parts.set(key, { lines, bytes: buf.length });
    this.held += buf.length;
    return lines;
  }

  private async bytes(key: string): Promise<Buffer> {
    const cached = this.o.cacheDir ? join(this.o.cacheDir, `${createHash('sha256').update(`${this.blobs.url}\n${key}`).digest('hex')}.jsonl`) : undefined;
    if (cached && existsSync(cached)) return readFile(cached);
    const chunks: Buffer[] = [];
    for await (const c of await this.blobs.get(key)) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    // only the bucketed objects are immutable (playlists/<kind>/<date>/<bucket>/<writer>.jsonl); a one-file day is not cached
    if (cached && key.split('/').length === 5) {
      await mkdir(this.o.cacheDir!, { recursive: true });
      const tmp = `${cached}.${process.pid}.tmp`;
      await writeFile(tmp, buf);
      await rename(tmp, cached);
    }
    return buf;
  }

  /** The stored playlist of `user` for `date`, if any (the first written, when two writers made one). */
  async get(kind: Playlist['kind'], date: string, user: string): Promise<Playlist | undefined> {
    const day = PlaylistArchive.day(kind, date);
    const mine = this.pending.get(day)?.get(user);
    if (mine) return mine;
    const bucket = `playlists/${day}/${archiveBucket(user)}/`;
    for (const key of await this.keysOf(day)) {
      if (!key.startsWith(bucket) && !key.endsWith(`${date}.jsonl`)) continue;
      const line = (await this.part(key)).get(user);
      if (line) return JSON.parse(line.toString('utf8')) as Playlist;
    }
    return undefined;
  }

  /** Keep `p` (in memory until {@link flush}). */
  async put(kind: Playlist['kind'], date: string, user: string, p: Playlist): Promise<void> {
    const day = PlaylistArchive.day(kind, date);
    let m = this.pending.get(day);
    if (!m) this.pending.set(day, (m = new Map()));
    m.set(user, p);
  }

  /** Write the lists put since the last flush: one new object per day and bucket, lines in listener order. */
  async flush(): Promise<void> {
    for (const [day, m] of this.pending) {
      await this.write(day, Array.from(m, ([user, p]) => ({ user, line: Buffer.from(JSON.stringify(p)) })));
      this.pending.delete(day);
    }
  }

  /**
   * Write now the weekly lists of `kind` for `date` given as JSONL (one playlist a line, as
   * `JSON.stringify` writes it, each with its `"userId"`; one line per listener): the same objects
   * as {@link put} of each list then {@link flush}, without parsing them. The playlists step's join
   * writes the lines its shards made this way.
   */
  async putLines(kind: Playlist['kind'], date: string, jsonl: Buffer): Promise<void> {
    const day = PlaylistArchive.day(kind, date);
    await this.write(day, Array.from(linesByUser(jsonl), ([user, lines]) => ({ user, line: lines[lines.length - 1] })));
  }

  /** One new object per bucket of `lines`, lines in listener order (UTF-16 code units, as `Array.prototype.sort`). */
  private async write(day: string, lines: { user: string; line: Buffer }[]): Promise<void> {
    const byBucket = new Map<string, Buffer[]>();
    for (const { user, line } of lines.sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0))) {
      const b = archiveBucket(user);
      const got = byBucket.get(b) ?? [];
      got.push(line, NEWLINE);
      byBucket.set(b, got);
    }
    for (const [b, parts] of [...byBucket].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      const key = `playlists/${day}/${b}/${this.writer}.jsonl`;
      await this.blobs.put(key, { bytes: Buffer.concat(parts) });
      this.held -= this.parts.get(key)?.bytes ?? 0;
      this.parts.delete(key);
    }
    this.days.delete(day);
  }

  /** The dates `kind` has lists for, newest first. */
  async weeks(kind: Playlist['kind']): Promise<string[]> {
    const dates = new Set<string>();
    for (const { key } of await this.blobs.list(`playlists/${kind}/`)) {
      const d = key.slice(`playlists/${kind}/`.length, `playlists/${kind}/`.length + 10);
      if (DATE.test(d)) dates.add(d);
    }
    return [...dates].sort().reverse();
  }

  /** Release the storage (the archive is not used afterwards). */
  async close(): Promise<void> {
    await this.blobs.close();
  }
}

/** A JSONL buffer's lines by their `"userId"` (only the key is read; lines without one are skipped). */
function indexLines(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [user, lines] of linesByUser(buf)) if (!out.has(user)) out.set(user, lines[0]);
  return out;
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
  const byUser = existsSync(file) ? linesByUser(await readFile(file)) : new Map<string, Buffer[]>();
  return { get: (user) => byUser.get(user)?.map((line) => JSON.parse(line.toString('utf8')) as Playlist) };
}

/** A JSONL buffer's lines (slices, not copies) by their `"userId"`, in file order; lines without one are skipped. */
function linesByUser(buf: Buffer): Map<string, Buffer[]> {
  const byUser = new Map<string, Buffer[]>();
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
  return byUser;
}

/** Whether the run of backslashes ending at `i` (inclusive) is of even length. */
function evenBackslashes(buf: Buffer, i: number): boolean {
  let n = 0;
  while (i - n >= 0 && buf[i - n] === 92) n++;
  return n % 2 === 0;
}

/**
 * The home page's impression log: where served pages write their impressions without touching
 * the store. At 300 pages/s a server logs ~32,000 impression rows/s; writing those into DuckDB as
 * they come cost about half a core on this 2-core machine and stalled the event loop during
 * checkpoints (home p99 20–26 ms), while appending them as JSON lines to a file costs a tenth of
 * that (bench/api.bench.ts). The store gets them in bulk when the pipeline's bandit step, the only
 * reader, runs ({@link loadImpressionLogs}), as impression logs travel in streaming services.
 *
 * Files: `<dir>/impressions-<start>-<pid>-<n>.jsonl.open` while written, renamed to `….jsonl`
 * when closed: on {@link ImpressionLog.flush}, every `rotateMs`, and by {@link recoverImpressionLogs}
 * for files left open by a process that died. Only closed files are loaded; a loaded file is
 * deleted once its rows are committed (loading again is harmless: impressions are keyed by
 * request and slot). A line that does not parse (a crash can tear the last one) is quarantined
 * with its file and line, as import does.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { readLines } from '../util/lines.ts';
import { Impression } from '../domain/schemas.ts';
import type { Store, QuarantinedRow } from '../store/index.ts';
import { log } from '../log.ts';

/** Where a home page sends its impressions. */
export interface ImpressionSink {
  /** Take rows; never throws and never waits for a write. */
  append(rows: readonly Impression[]): void;
  /**
   * Take rows and resolve once they are committed (rejects when their write failed): for a server
   * that answers only with impressions that outlive it (an API node of a fleet). Optional.
   */
  durable?(rows: readonly Impression[]): Promise<void>;
  /** Resolves once every row appended so far is durable where the sink keeps it. */
  flush(): Promise<void>;
  /** Flush and release timers; the sink is not used afterwards. */
  close?(): Promise<void>;
}

/** The impression log of a deepcut home (`DEEPCUT_HOME`): `<home>/logs/impressions`. */
export const impressionLogDir = (home: string): string => join(home, 'logs', 'impressions');

const OPEN = '.jsonl.open';
/** Files opened by this process (every log instance): part of each name, so names never repeat. */
let opened = 0;
const CLOSED = '.jsonl';

export interface ImpressionLogOptions {
  /** Close the current file and start a new one this often, in ms (default 5 minutes), so a running server's impressions become loadable. */
  rotateMs?: number;
}

/** Appends impressions as JSON lines to files in `dir` (created when needed). */
export class ImpressionLog implements ImpressionSink {
  private out: WriteStream | undefined;
  private path = '';
  private readonly started = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly dir: string,
    o: ImpressionLogOptions = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.timer = setInterval(() => void this.flush(), o.rotateMs ?? 300_000);
    this.timer.unref();
  }

  append(rows: readonly Impression[]): void {
    if (rows.length === 0) return;
    if (!this.out) {
      const path = (this.path = join(this.dir, `impressions-${this.started}-${process.pid}-${opened++}${OPEN}`));
      const out = (this.out = createWriteStream(path, { flags: 'a' }));
      out.on('error', (e) => {
        // rows of this stream are lost (a full disk, a removed folder); the next append tries a new file
        log('home').warn({ err: e.message, file: path }, 'could not write the impression log');
        if (this.out === out) this.out = undefined;
      });
    }
    let text = '';
    for (const r of rows) text += `${JSON.stringify(r)}\n`;
    this.out.write(text);
  }

  /** Write out and close the current file (renamed to `.jsonl`, loadable); the next append starts a new one. */
  async flush(): Promise<void> {
    const out = this.out;
    if (!out) return;
    const path = this.path;
    this.out = undefined;
    const ok = await new Promise<boolean>((resolve) => {
      if (out.destroyed) return resolve(false);
      out.once('error', () => resolve(false));
      out.end(() => resolve(true));
    });
    if (!ok) return;
    try {
      await rename(path, path.slice(0, -OPEN.length) + CLOSED);
    } catch (e) {
      log('home').warn({ err: (e as Error).message, file: path }, 'could not close the impression log');
    }
  }

  /** Flush and stop rotating. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** Close files in `dir` left open by processes that are gone (a crash); returns how many. */
export async function recoverImpressionLogs(dir: string): Promise<number> {
  let n = 0;
  for (const name of await listDir(dir)) {
    if (!name.endsWith(OPEN)) continue;
    const pid = Number(/-(\d+)-\d+\.jsonl\.open$/.exec(name)?.[1]);
    if (pid === process.pid || alive(pid)) continue;
    await rename(join(dir, name), join(dir, name.slice(0, -OPEN.length) + CLOSED));
    n++;
  }
  return n;
}

export interface LoadedLogs {
  files: number;
  rows: number;
  inserted: number;
  duplicates: number;
  quarantined: number;
}

/**
 * Load every closed impression file in `dir` (oldest first) into the store, `batch` rows per
 * transaction, and delete each file once all of its rows are committed. A missing `dir` loads nothing.
 */
export async function loadImpressionLogs(store: Pick<Store, 'bulkPut' | 'quarantine'>, dir: string, o: { batch?: number } = {}): Promise<LoadedLogs> {
  const batch = o.batch ?? 20_000;
  const out: LoadedLogs = { files: 0, rows: 0, inserted: 0, duplicates: 0, quarantined: 0 };
  const names = (await listDir(dir)).filter((n) => n.endsWith(CLOSED)).sort();
  for (const name of names) {
    const file = join(dir, name);
    const bad: QuarantinedRow[] = [];
    async function* rows(): AsyncGenerator<Impression[]> {
      let buf: Impression[] = [];
      for await (const frames of readLines(file)) {
        for (const { line, text, issue } of frames) {
          if (!issue && text.trim() === '') continue;
          out.rows++;
          const got = issue ? { field: null, reason: issue.reason } : parseImpression(text);
          if ('reason' in got) {
            bad.push({ batch: `impression-log:${name}`, entity: 'impressions', format: 'impression-log', file, line, field: got.field, code: issue?.code ?? 'malformed', reason: got.reason, raw: text, quarantined_at: new Date().toISOString() });
            continue;
          }
          buf.push(got.row);
          if (buf.length === batch) {
            yield buf;
            buf = [];
          }
        }
      }
      if (buf.length) yield buf;
    }
    const r = await store.bulkPut('impressions', rows());
    if (bad.length) await store.quarantine(bad);
    out.inserted += r.inserted;
    out.duplicates += r.duplicates;
    out.quarantined += bad.length;
    out.files++;
    await unlink(file);
  }
  return out;
}

/** One logged line as an impression, or why it is not one (and the first field at fault). */
function parseImpression(text: string): { row: Impression } | { field: string | null; reason: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { field: null, reason: `not JSON: ${(e as Error).message}` };
  }
  const r = Impression.safeParse(v);
  if (!r.success) return { field: r.error.issues[0]?.path.join('.') || null, reason: r.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; ') };
  return { row: r.data };
}

/** Rows per store write at most. */
const WRITE_BATCH = 1000;

/**
 * Writes impressions straight into the store, in the background: one write at a time, each of
 * {@link WRITE_BATCH} rows once that many wait, or of what waits `delayMs` after the first row
 * came. A store write has a fixed cost (a transaction: about 1.7 ms of CPU on DuckDB), so writing
 * each page's ~100 rows on its own costs 4× the CPU of full batches. A failed write is logged, not
 * thrown. For tests, tools and low traffic; a server uses {@link ImpressionLog}, an API node of a
 * fleet {@link durable} (its rows are committed before the page is answered; pages answered at
 * the same time share one write: a group commit).
 */
export class StoreImpressionWriter implements ImpressionSink {
  private pending: Impression[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Rows ever appended / ever written or failed, in order (the waiters of `durable` compare against them). */
  private appended = 0;
  private settled = 0;
  private waiters: { from: number; to: number; resolve(): void; reject(e: Error): void }[] = [];

  constructor(
    private readonly store: Pick<Store, 'put'>,
    private readonly delayMs = 250,
  ) {}

  append(rows: readonly Impression[]): void {
    for (const r of rows) this.pending.push(r);
    this.appended += rows.length;
    this.schedule();
  }

  durable(rows: readonly Impression[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const from = this.appended;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ from, to: from + rows.length, resolve, reject }));
    for (const r of rows) this.pending.push(r);
    this.appended += rows.length;
    // write now, or right after the write in flight, with every row that waits by then
    if (!this.writing) void this.start(true);
    return done;
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing || this.pending.length > 0) await this.start(true);
  }

  /** Start a write now when a full batch waits, else make sure one starts within `delayMs`. */
  private schedule(): void {
    if (this.writing) return; // the running write picks the rows up, or reschedules
    if (this.pending.length >= WRITE_BATCH) {
      void this.start(false);
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.start(true);
    }, this.delayMs);
    this.timer.unref();
  }

  /** The running write, or a new one; `writing` is cleared only once it has settled. */
  private start(all: boolean): Promise<void> {
    this.writing ??= this.drain(all).finally(() => {
      this.writing = undefined;
      if (this.pending.length > 0) this.schedule();
    });
    return this.writing;
  }

  /** Write full batches (and, when `all`, the rest) one at a time; rows that arrive meanwhile join the next one. */
  private async drain(all: boolean): Promise<void> {
    while (this.pending.length >= WRITE_BATCH || (all && this.pending.length > 0)) {
      // bounded batches: a store's synchronous part of a write (e.g. DuckDB's appender) stalls the event loop
      const batch = this.pending.splice(0, WRITE_BATCH);
      let failed: Error | undefined;
      try {
        await this.store.put('impressions', batch);
      } catch (e) {
        failed = e as Error;
        log('home').warn({ err: failed.message, rows: batch.length }, 'could not log impressions');
      }
      const from = this.settled;
      this.settled += batch.length;
      this.waiters = this.waiters.filter((w) => {
        if (failed && w.from < this.settled && w.to > from) return void w.reject(failed), false;
        if (w.to <= this.settled) return void w.resolve(), false;
        return true;
      });
    }
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The filesystem backend: a key is a path under one folder (`<root>/<key>`), right for a local disk
 * and for a mount every node shares. A put writes a hidden temporary file beside its target,
 * fsyncs it and renames it into place, so a reader sees the old object or the whole new one, never
 * a part. Each object's SHA-256 is kept in `<root>/.sha256/<key>`, checked on every read.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DeepcutError } from '../errors.ts';
import { ChecksumMismatch, checkKey, checkPrefix, checkSha256, hashing, readableOf, syncFile, type ArtifactInfo, type ArtifactSource, type LocalArtifactStore } from './store.ts';

export class FsArtifactStore implements LocalArtifactStore {
  readonly root: string;

  constructor(
    root: string,
    readonly url: string = root,
  ) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    return join(this.root, ...checkKey(key).split('/'));
  }

  private sumPath(key: string): string {
    return join(this.root, '.sha256', ...checkKey(key).split('/'));
  }

  private async recordedSum(key: string): Promise<string | undefined> {
    try {
      return (await readFile(this.sumPath(key), 'utf8')).trim();
    } catch {
      return undefined;
    }
  }

  async put(key: string, source: ArtifactSource): Promise<ArtifactInfo> {
    const dest = this.path(key);
    const expected = source.sha256 === undefined ? undefined : checkSha256(source.sha256);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = join(dirname(dest), `.tmp-${basename(dest)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    const hash = hashing(expected, (actual) => new ChecksumMismatch(key, expected!, actual, `${this.url}: put`));
    try {
      await pipeline(readableOf(source), hash, createWriteStream(tmp));
      await syncFile(tmp);
      const { sha256, size } = hash.result();
      await writeAtomic(this.sumPath(key), sha256 + '\n');
      await rename(tmp, dest);
      await syncDir(dirname(dest));
      return { key, size, sha256 };
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async get(key: string, opts: { sha256?: string } = {}): Promise<Readable> {
    const file = this.path(key);
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new DeepcutError('not_found', `${this.url}: no artifact ${key}`);
      throw new DeepcutError('unavailable', `${this.url}: cannot read ${key}: ${(e as Error).message}`, {}, { cause: e });
    }
    const expected = opts.sha256 ?? (await this.recordedSum(key));
    const out = hashing(expected, (actual) => new ChecksumMismatch(key, expected!, actual, this.url));
    const src = fh.createReadStream({ highWaterMark: 1 << 20 });
    src.on('error', (e) => out.destroy(e));
    out.on('close', () => src.destroy());
    return src.pipe(out);
  }

  async stat(key: string): Promise<ArtifactInfo | undefined> {
    try {
      const s = await stat(this.path(key));
      if (!s.isFile()) return undefined;
      const sha256 = await this.recordedSum(key);
      return { key, size: s.size, ...(sha256 ? { sha256 } : {}) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    checkPrefix(prefix);
    const cut = prefix.lastIndexOf('/');
    const base = cut < 0 ? '' : prefix.slice(0, cut);
    const out: ArtifactInfo[] = [];
    const walk = async (rel: string) => {
      let names: string[];
      try {
        names = await readdir(rel ? join(this.root, ...rel.split('/')) : this.root);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw e;
      }
      for (const name of names) {
        if (name.startsWith('.')) continue; // temporary files and the checksums
        const key = rel ? `${rel}/${name}` : name;
        if (!key.startsWith(prefix) && !prefix.startsWith(`${key}/`)) continue;
        const s = await stat(join(this.root, ...key.split('/'))).catch(() => undefined);
        if (s?.isDirectory()) await walk(key);
        else if (s?.isFile() && key.startsWith(prefix)) out.push({ key, size: s.size });
      }
    };
    await walk(base);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<boolean> {
    const existed = (await this.stat(key)) !== undefined;
    await rm(this.path(key), { force: true });
    await rm(this.sumPath(key), { force: true });
    return existed;
  }

  async close(): Promise<void> {}
}

/** Write `text` to `path` through a temporary file and a rename. */
async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** fsync a folder so a rename into it survives a crash; some filesystems refuse, which is harmless. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* not supported here */
  }
}

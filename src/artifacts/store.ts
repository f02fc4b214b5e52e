/**
 * The artifact store: named blobs (a run's files, models, indexes), each kept with its SHA-256 and
 * checked against it on every read. One small interface, one file per backend (fs.ts, s3.ts), one
 * contract suite both pass (store.case.test.ts). Keys are `/`-separated paths such as
 * `20261206T030000Z-1/cf/als.bin`; a key is visible whole or not at all.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { resolve } from 'node:path';
import { DeepcutError } from '../errors.ts';

/** One stored object: its key, its size in bytes and, when recorded, its SHA-256 (hex). */
export interface ArtifactInfo {
  key: string;
  size: number;
  sha256?: string;
}

/**
 * What {@link ArtifactStore.put} stores: a local file, bytes, or a stream of bytes with its SHA-256
 * (hex). A stream must say its checksum up front: object stores record it before the first byte is
 * sent. When a `sha256` is given, bytes that do not hash to it are refused and nothing is stored.
 */
export type ArtifactSource =
  | { file: string; sha256?: string }
  | { bytes: Uint8Array; sha256?: string }
  | { stream: Readable | AsyncIterable<Uint8Array>; sha256: string };

export interface ArtifactStore {
  /** Where it stores, as given to {@link openArtifactStore} (without credentials). */
  readonly url: string;
  /**
   * Store `source` under `key`, replacing what was there. The object becomes visible only once
   * every byte is stored (a failed or interrupted put leaves the key as it was). Bytes that do not
   * hash to the source's `sha256` are refused ({@link ChecksumMismatch}) and nothing is stored.
   * Resolves to the stored object's size and SHA-256.
   * @example await store.put('r1/cf/als.bin', { file: '/tmp/als.bin' })
   */
  put(key: string, source: ArtifactSource): Promise<ArtifactInfo>;
  /**
   * The bytes under `key` as a stream, hashed as they pass: when they do not match `sha256` (or,
   * without it, the SHA-256 recorded at put), the stream fails with {@link ChecksumMismatch} at its
   * end. A missing key is DeepcutError('not_found'); an unreachable backend 'unavailable'.
   */
  get(key: string, opts?: { sha256?: string }): Promise<Readable>;
  /** Size and recorded SHA-256 of `key`, or undefined when there is none. */
  stat(key: string): Promise<ArtifactInfo | undefined>;
  /** Every object whose key starts with `prefix` (a plain string prefix, as S3's), sorted by key. */
  list(prefix: string): Promise<ArtifactInfo[]>;
  /** Remove `key`; false when there was nothing to remove. */
  delete(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * An optional ability: a store whose objects are plain files in a local folder (the filesystem
 * backend). Readers open such objects in place instead of copying them into a cache.
 */
export interface LocalArtifactStore extends ArtifactStore {
  /** The folder the keys are paths in. */
  readonly root: string;
}

export const isLocal = (s: ArtifactStore): s is LocalArtifactStore => typeof (s as Partial<LocalArtifactStore>).root === 'string';

/** Whether `store` is the folder `runsDir` itself, where runs are built: their files are its objects already. */
export const isRunsFolder = (store: ArtifactStore, runsDir: string): boolean => isLocal(store) && resolve(store.root) === resolve(runsDir);

/** Bytes read back that do not hash to the checksum recorded for them. */
export class ChecksumMismatch extends DeepcutError {
  constructor(
    readonly key: string,
    readonly expected: string,
    readonly actual: string,
    where: string,
  ) {
    super('invalid_input', `${where}: checksum mismatch for ${key}: expected sha256 ${expected}, read ${actual} (the stored object is corrupt or was changed)`);
  }
}

/**
 * Check a key: `/`-separated segments, none empty, none starting with `.` (the filesystem backend
 * keeps its temporary files and checksums under such names), no backslashes, no NUL.
 */
export function checkKey(key: string): string {
  if (!key || key.split('/').some((s) => s === '' || s.startsWith('.')) || /[\\\0]/.test(key))
    throw new Error(`artifact key ${JSON.stringify(key)}: expected /-separated names, none empty or starting with "."`);
  return key;
}

/** A prefix for {@link ArtifactStore.list}: empty, or a key's start (it may end with `/`). */
export function checkPrefix(prefix: string): string {
  if (prefix !== '') checkKey(prefix.replace(/\/$/, ''));
  return prefix;
}

const HEX64 = /^[0-9a-f]{64}$/;
export function checkSha256(sha: string): string {
  if (!HEX64.test(sha)) throw new Error(`artifact sha256 ${JSON.stringify(sha)}: expected 64 lower-case hex digits`);
  return sha;
}

/** The source as a readable stream. */
export function readableOf(source: ArtifactSource): Readable {
  if ('file' in source) return createReadStream(source.file, { highWaterMark: 1 << 20 });
  if ('bytes' in source) return Readable.from([source.bytes], { objectMode: false });
  return source.stream instanceof Readable ? source.stream : Readable.from(source.stream, { objectMode: false });
}

/** The SHA-256 a source must hash to: given, or computed from the file or bytes (a second read of a file). */
export async function expectedSha256(source: ArtifactSource): Promise<string> {
  if (source.sha256 !== undefined) return checkSha256(source.sha256);
  if ('file' in source) return (await sha256File(source.file)).sha256;
  if ('bytes' in source) return createHash('sha256').update(source.bytes).digest('hex');
  throw new Error('artifact put: a stream needs its sha256');
}

/** SHA-256 (hex) of a local file, streamed. */
export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

/**
 * A pass-through stream that hashes what flows through it; at the end, when `expected` is given
 * and differs, it fails with `onMismatch(actual)` before signalling its end, so a consumer never
 * sees a clean end on bad bytes. `result()` gives the hash and byte count once it has ended.
 */
export function hashing(expected: string | undefined, onMismatch: (actual: string) => Error): Transform & { result(): { sha256: string; size: number } } {
  const h = createHash('sha256');
  let size = 0;
  let digest: string | undefined;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
    flush(cb) {
      digest = h.digest('hex');
      cb(expected !== undefined && digest !== expected ? onMismatch(digest) : null);
    },
  });
  return Object.assign(t, {
    result() {
      if (digest === undefined) throw new Error('hashing: the stream has not ended');
      return { sha256: digest, size };
    },
  });
}

/** fsync a file, so its bytes are on disk before it is renamed into sight. */
export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

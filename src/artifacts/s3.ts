/**
 * The S3-compatible backend (AWS S3, MinIO, Ceph, GCS's S3 API) on `@aws-sdk/client-s3`:
 * `s3://bucket/prefix?endpoint=http://host:9000&region=eu-west-1&pathStyle=true`. Each object
 * carries its SHA-256 as user metadata (`x-amz-meta-sha256`), set before the first byte is sent and
 * checked on every read. Large objects go up as multipart uploads (`@aws-sdk/lib-storage`, 8 MiB
 * parts), which S3 shows only once completed: an interrupted put is aborted and never visible.
 *
 * Endpoint, region and path style come from the URL's query, else from the standard variables
 * (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_DEFAULT_REGION`); credentials from
 * the SDK's default chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, instance
 * roles), never from the URL.
 */
import { S3Client, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, DeleteObjectCommand, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { DeepcutError, isDeepcutError } from '../errors.ts';
import { ChecksumMismatch, checkKey, checkPrefix, expectedSha256, hashing, readableOf, type ArtifactInfo, type ArtifactSource, type ArtifactStore } from './store.ts';

/** Size of a multipart upload's parts (S3's minimum is 5 MiB); objects below it go up in one request. */
export const PART_BYTES = 8 * 1024 * 1024;

export interface S3Options {
  /** Credentials for tests and tools; by default the SDK's chain finds them. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  env?: NodeJS.ProcessEnv;
  /** Multipart upload: bytes per part (default {@link PART_BYTES}; S3 takes ≥ 5 MiB) and parts in flight (default 4). */
  partBytes?: number;
  partsInFlight?: number;
}

/** Parse `s3://bucket/prefix?endpoint=…&region=…&pathStyle=…` into the bucket, the key prefix and the client's settings. */
export function parseS3Url(url: string, env: NodeJS.ProcessEnv = process.env): { bucket: string; prefix: string; config: S3ClientConfig } {
  const u = new URL(url);
  if (u.protocol !== 's3:' || !u.hostname) throw new DeepcutError('config', `artifacts.url ${url}: expected s3://bucket/prefix`);
  if (u.username || u.password) throw new DeepcutError('config', `artifacts.url: credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)`);
  const known = new Set(['endpoint', 'region', 'pathStyle']);
  for (const k of u.searchParams.keys()) if (!known.has(k)) throw new DeepcutError('config', `artifacts.url ${url}: unknown parameter ${k} (known: ${[...known].join(', ')})`);
  const endpoint = u.searchParams.get('endpoint') ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? undefined;
  const region = u.searchParams.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const ps = u.searchParams.get('pathStyle');
  if (ps !== null && ps !== 'true' && ps !== 'false') throw new DeepcutError('config', `artifacts.url ${url}: pathStyle must be true or false`);
  // a custom endpoint (MinIO, Ceph, a local server) rarely has per-bucket host names
  const forcePathStyle = ps === null ? endpoint !== undefined : ps === 'true';
  const path = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
  if (path) checkKey(path);
  return {
    bucket: u.hostname,
    prefix: path ? `${path}/` : '',
    config: {
      region,
      forcePathStyle,
      ...(endpoint ? { endpoint } : {}),
      // other S3-compatible servers do not all take the SDK's newer default checksum headers
      // (aws-chunked CRC32 trailers); deepcut checks its own SHA-256 on every read instead
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    },
  };
}

const isNotFound = (e: unknown) => {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return x?.name === 'NoSuchKey' || x?.name === 'NotFound' || x?.$metadata?.httpStatusCode === 404;
};

export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partBytes: number;
  private readonly partsInFlight: number;

  constructor(
    readonly url: string,
    o: S3Options = {},
  ) {
    const p = parseS3Url(url, o.env);
    // the SDK warns on every start under Node < 22 about its releases after January 2027; deepcut
    // pins the SDK through package-lock.json (an operator can turn the warning back on with "false")
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({ ...p.config, ...(o.credentials ? { credentials: o.credentials } : {}) });
    this.bucket = p.bucket;
    this.prefix = p.prefix;
    this.partBytes = o.partBytes ?? PART_BYTES;
    this.partsInFlight = o.partsInFlight ?? 4;
  }

  private key(key: string): string {
    return this.prefix + checkKey(key);
  }

  /** Any failure of a request as a DeepcutError: not found stays not_found, the rest is 'unavailable'. */
  private fail(op: string, key: string, e: unknown): never {
    if (isDeepcutError(e)) throw e;
    if (isNotFound(e)) throw new DeepcutError('not_found', `${this.url}: no artifact ${key}`);
    throw new DeepcutError('unavailable', `${this.url}: ${op} ${key} failed: ${(e as Error).message || (e as Error).name}`, {}, { cause: e });
  }

  async put(key: string, source: ArtifactSource): Promise<ArtifactInfo> {
    const k = this.key(key);
    const sha256 = await expectedSha256(source);
    const body = readableOf(source);
    // the first failure of the bytes themselves (the source broke, or they hash wrong) is the
    // put's error, not what the upload's clean-up met after it
    let broken: Error | undefined;
    const hash = hashing(sha256, (actual) => (broken ??= new ChecksumMismatch(key, sha256, actual, `${this.url}: put`)));
    body.on('error', (e) => hash.destroy((broken ??= e)));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: k, Body: body.pipe(hash), Metadata: { sha256 } },
      partSize: this.partBytes,
      queueSize: this.partsInFlight,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      body.destroy();
      this.fail('put', key, broken ?? e);
    }
    return { key, size: hash.result().size, sha256 };
  }

  async get(key: string, opts: { sha256?: string } = {}): Promise<Readable> {
    let res;
    try {
      res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    } catch (e) {
      this.fail('get', key, e);
    }
    const expected = opts.sha256 ?? res.Metadata?.sha256;
    const body = res.Body as Readable;
    const out = hashing(expected, (actual) => new ChecksumMismatch(key, expected!, actual, this.url));
    body.on('error', (e) => out.destroy(new DeepcutError('unavailable', `${this.url}: get ${key}: the download broke off: ${e.message}`, {}, { cause: e })));
    // a body that ends early without an error is caught by the size check below or the checksum
    const size = res.ContentLength;
    let seen = 0;
    body.on('data', (c: Buffer) => (seen += c.length));
    body.on('end', () => {
      if (size !== undefined && seen !== size) out.destroy(new DeepcutError('unavailable', `${this.url}: get ${key}: the download ended after ${seen} of ${size} bytes`));
    });
    out.on('close', () => body.destroy());
    return body.pipe(out);
  }

  async stat(key: string): Promise<ArtifactInfo | undefined> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return { key, size: h.ContentLength ?? 0, ...(h.Metadata?.sha256 ? { sha256: h.Metadata.sha256 } : {}) };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      this.fail('stat', key, e);
    }
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    checkPrefix(prefix);
    const out: ArtifactInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(this.prefix.length), size: o.Size ?? 0 });
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      this.fail('list', prefix, e);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<boolean> {
    const existed = (await this.stat(key)) !== undefined;
    try {
      if (existed) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    } catch (e) {
      this.fail('delete', key, e);
    }
    return existed;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

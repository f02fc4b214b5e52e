/**
 * Artifacts: a synthetic run folder (seeded bytes; default 128 MiB: four 24 MiB files and 32 of
 * 1 MiB) put into the artifact store with `pushRun` and fetched back with `fetchRun`, for the folder
 * backend and for S3 against a local endpoint (s3rver in a child process on loopback: a stand-in
 * whose own speed bounds the figure; a real S3 or MinIO is faster). Also: the default store's
 * in-place push (hashing only), and a fetch whose every file is already in the cache.
 * Args: `--mb N` (size of the run, MiB).
 */
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bench } from './bench.ts';
import { numFlag } from './bench.ts';
import { FetchStats, fetchRun, pushRun, type ArtifactStore } from '../src/artifacts/index.ts';
import { FsArtifactStore } from '../src/artifacts/fs.ts';
import { S3ArtifactStore } from '../src/artifacts/s3.ts';
import { startS3, S3_TEST_CREDENTIALS } from '../src/artifacts/testing/s3.ts';
import { seededBytes } from '../src/artifacts/testing/bytes.ts';

/** Wall seconds and CPU seconds (user + system) of `fn`. */
async function timed<T>(fn: () => Promise<T>): Promise<{ s: number; cpu: number; value: T }> {
  const t = performance.now();
  const c = process.cpuUsage();
  const value = await fn();
  const u = process.cpuUsage(c);
  return { s: (performance.now() - t) / 1000, cpu: (u.user + u.system) / 1e6, value };
}

async function makeRun(dir: string, mb: number): Promise<number> {
  const big = Math.max(1, Math.floor((mb * 0.75) / 4));
  const files: [string, number][] = [];
  for (let i = 0; i < 4; i++) files.push([`cf/part-${i}.bin`, big << 20]);
  for (let i = 0; i < mb - 4 * big; i++) files.push([`playlists/small-${i}.jsonl`, 1 << 20]);
  let total = 0;
  for (const [i, [p, size]] of files.entries()) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    await pipeline(Readable.from(seededBytes(100 + i, size)), createWriteStream(join(dir, p)));
    total += size;
  }
  return total;
}

async function roundTrip(name: string, store: ArtifactStore, runDir: string, bytes: number, work: string): Promise<Record<string, number>> {
  const mb = bytes / 2 ** 20;
  const up = await timed(() => pushRun(store, runDir, 'r1'));
  const stats = new FetchStats();
  const down = await timed(() => fetchRun(store, 'r1', join(work, `${name}-cache`), { stats }));
  if (down.value.downloaded !== up.value.files.length) throw new Error(`${name}: fetched ${down.value.downloaded} of ${up.value.files.length} files`);
  // the same bytes as another run: every file is a cache hit, only the folder is built
  await pushRun(store, runDir, 'r2');
  const hit = await timed(() => fetchRun(store, 'r2', join(work, `${name}-cache`), { stats }));
  if (hit.value.downloaded !== 0) throw new Error(`${name}: the cached run downloaded ${hit.value.downloaded} files`);
  return {
    [`${name}_upload_mb_per_s`]: mb / up.s,
    [`${name}_upload_cpu_s`]: up.cpu,
    [`${name}_upload_mb_per_cpu_s`]: mb / up.cpu,
    [`${name}_download_mb_per_s`]: mb / down.s,
    [`${name}_download_cpu_s`]: down.cpu,
    [`${name}_download_mb_per_cpu_s`]: mb / down.cpu,
    [`${name}_cached_fetch_ms`]: hit.s * 1000,
  };
}

const bench: Bench = {
  name: 'artifacts',
  description:
    'A synthetic run (seeded bytes, `--mb` MiB: four large files and 1 MiB ones) put into the artifact store with `pushRun` and fetched into a fresh cache with `fetchRun` (SHA-256 checked on every file): the folder backend, and S3 against s3rver in a child process on loopback (a test server; its own speed bounds the S3 figures). `cached_fetch_ms`: a second run with the same bytes, every file a cache hit. `in_place_push`: the default store (`<home>/runs`), where only the file list is written after hashing.',
  async run(args) {
    const mbWanted = numFlag(args, 'mb', 128);
    const work = mkdtempSync(join(tmpdir(), 'deepcut-bench-artifacts-'));
    const s3 = await startS3();
    try {
      const runs = join(work, 'runs');
      const bytes = await makeRun(join(runs, 'r1'), mbWanted);
      const inPlace = await timed(() => pushRun(new FsArtifactStore(runs), join(runs, 'r1'), 'r1'));
      const fs = await roundTrip('fs', new FsArtifactStore(join(work, 'store')), join(runs, 'r1'), bytes, work);
      const store = new S3ArtifactStore(s3.url('bench'), { credentials: S3_TEST_CREDENTIALS });
      const s3f = await roundTrip('s3', store, join(runs, 'r1'), bytes, work);
      await store.close();
      return {
        figures: { run_mb: bytes / 2 ** 20, files: inPlace.value.files.length, in_place_push_s: inPlace.s, in_place_push_cpu_s: inPlace.cpu, ...fs, ...s3f },
        notes: [
          'Wall-clock rates were taken on a shared 2-core machine under a load average of ~25 (8 helpers at once): they are far below what the disk or an idle machine gives; the per-CPU-second rates (this process only; s3rver runs in its own) are the steadier figures.',
          'The fs upload reads each file twice (the file list hashes it, the put hashes what it writes); a fetch hashes once while writing the cache.',
        ],
      };
    } finally {
      await s3.stop();
      rmSync(work, { recursive: true, force: true });
    }
  },
};
export default bench;

/**
 * The contract every artifact store backend passes (as hono's `*.case.test.ts`, gorse's one store
 * suite). A backend's test file runs it in a few lines:
 *
 *   artifactStoreContract('fs', async () => ({ store: new FsArtifactStore(dir), corrupt, close }));
 *
 * Bytes are seeded, so every run stores the same objects. Cases a backend cannot meet are skipped by
 * name, each with its reason.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { seededBytes, digest } from './testing/bytes.ts';
import { isDeepcutError } from '../errors.ts';
import { ChecksumMismatch, type ArtifactStore } from './store.ts';

export interface StoreHarness {
  store: ArtifactStore;
  /** Change one byte of `key`'s stored bytes behind the store's back, leaving its recorded checksum. */
  corrupt(key: string): Promise<void>;
  close(): Promise<void>;
}

export type StoreCase = 'large';
export interface StoreContractOptions {
  skip?: Partial<Record<StoreCase, string>>;
}

/** V8's collector, to sample the memory still in use (not garbage awaiting collection). */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const bytesOf = async (s: AsyncIterable<Uint8Array>) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString('utf8');
};

async function rejectsCode(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isDeepcutError(e), `expected a DeepcutError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

/** Register the contract tests for one backend; `open` gives a fresh, empty store. */
export function artifactStoreContract(name: string, open: () => Promise<StoreHarness>, opts: StoreContractOptions = {}): void {
  const skip = opts.skip ?? {};
  describe(`artifact store contract: ${name}`, () => {
    let h: StoreHarness;
    let tmp: string;
    before(async () => {
      h = await open();
      tmp = await mkdtemp(join(tmpdir(), 'dc-artifacts-'));
    });
    after(async () => {
      await h.close();
      await rm(tmp, { recursive: true, force: true });
    });

    it('puts, gets, stats, lists by prefix and deletes', async () => {
      const s = h.store;
      const a = await s.put('r1/cf/als.bin', { bytes: Buffer.from('factors') });
      assert.deepEqual(a, { key: 'r1/cf/als.bin', size: 7, sha256: createHash('sha256').update('factors').digest('hex') });
      await s.put('r1/run.json', { bytes: Buffer.from('{}') });
      await s.put('r10/run.json', { bytes: Buffer.from('{"x":1}') });
      assert.equal(await bytesOf(await s.get('r1/cf/als.bin')), 'factors');
      assert.deepEqual(await s.stat('r1/cf/als.bin'), a);
      assert.deepEqual((await s.list('r1/')).map((o) => [o.key, o.size]), [['r1/cf/als.bin', 7], ['r1/run.json', 2]]);
      assert.deepEqual((await s.list('r1')).map((o) => o.key), ['r1/cf/als.bin', 'r1/run.json', 'r10/run.json'], 'a plain string prefix, as S3');
      assert.deepEqual((await s.list('r1/c')).map((o) => o.key), ['r1/cf/als.bin']);
      assert.deepEqual((await s.list('')).map((o) => o.key), ['r1/cf/als.bin', 'r1/run.json', 'r10/run.json']);
      assert.deepEqual(await s.list('nothing/'), []);
      // a put replaces
      await s.put('r1/run.json', { bytes: Buffer.from('{"status":"done"}') });
      assert.equal(await bytesOf(await s.get('r1/run.json')), '{"status":"done"}');
      assert.equal(await s.delete('r1/run.json'), true);
      assert.equal(await s.delete('r1/run.json'), false);
      assert.equal(await s.stat('r1/run.json'), undefined);
      await rejectsCode(s.get('r1/run.json'), 'not_found', /no artifact r1\/run\.json/);
      assert.deepEqual((await s.list('r1/')).map((o) => o.key), ['r1/cf/als.bin']);
    });

    it('refuses keys that are not plain /-separated names', async () => {
      for (const bad of ['', '../x', 'a/../b', '.hidden', 'a//b', 'a/', 'a\\b'])
        await assert.rejects(h.store.put(bad, { bytes: Buffer.from('x') }), /artifact key .*expected \/-separated names/, bad);
    });

    it('puts a file and refuses bytes that do not match the sha256 given, storing nothing', async () => {
      const f = join(tmp, 'small.txt');
      await pipeline(Readable.from([Buffer.from('hello')]), createWriteStream(f));
      const good = createHash('sha256').update('hello').digest('hex');
      assert.deepEqual(await h.store.put('f/ok.txt', { file: f, sha256: good }), { key: 'f/ok.txt', size: 5, sha256: good });
      await assert.rejects(h.store.put('f/bad.txt', { file: f, sha256: 'a'.repeat(64) }), (e: unknown) => e instanceof ChecksumMismatch && /checksum mismatch for f\/bad\.txt/.test(e.message));
      assert.equal(await h.store.stat('f/bad.txt'), undefined);
      assert.deepEqual((await h.store.list('f/')).map((o) => o.key), ['f/ok.txt']);
    });

    it('streams a large object up and down without holding it in memory', { skip: skip.large, timeout: 120_000 }, async () => {
      const size = 40 * 1024 * 1024 + 12345; // not a whole number of parts
      const file = join(tmp, 'large.bin');
      await pipeline(Readable.from(seededBytes(7, size)), createWriteStream(file));
      const want = await digest(Readable.from(seededBytes(7, size)));
      // the peak of Buffer memory in use while the object goes up and comes back, sampled as it runs
      gc();
      const base = process.memoryUsage().arrayBuffers;
      let peak = 0;
      const sampler = setInterval(() => {
        gc();
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
      }, 100);
      try {
        const put = await h.store.put('big/large.bin', { file });
        assert.deepEqual(put, { key: 'big/large.bin', size, sha256: want.sha256 });
        assert.deepEqual(await digest(await h.store.get('big/large.bin')), want);
        // from a stream too, its checksum said up front
        await h.store.put('big/streamed.bin', { stream: Readable.from(seededBytes(7, size)), sha256: want.sha256 });
      } finally {
        clearInterval(sampler);
      }
      assert.ok(peak < size * 0.75, `Buffer memory in use grew by ${(peak / 2 ** 20).toFixed(1)} MiB moving a ${(size / 2 ** 20).toFixed(1)} MiB object: it is being held whole`);
      assert.equal((await h.store.stat('big/streamed.bin'))?.sha256, want.sha256);
    });

    it('never shows a partial upload: an interrupted put leaves the key as it was', async () => {
      const s = h.store;
      const broken = async function* () {
        yield* seededBytes(3, 12 * 1024 * 1024);
        throw new Error('the source broke off');
      };
      await assert.rejects(s.put('p/new.bin', { stream: broken(), sha256: 'b'.repeat(64) }), /broke off/);
      assert.equal(await s.stat('p/new.bin'), undefined);
      assert.deepEqual(await s.list('p/'), []);
      await rejectsCode(s.get('p/new.bin'), 'not_found', /no artifact p\/new\.bin/);
      const old = await s.put('p/old.bin', { bytes: Buffer.from('old bytes') });
      await assert.rejects(s.put('p/old.bin', { stream: broken(), sha256: 'b'.repeat(64) }), /broke off/);
      assert.deepEqual(await s.stat('p/old.bin'), old);
      assert.equal(await bytesOf(await s.get('p/old.bin')), 'old bytes');
      assert.deepEqual((await s.list('p/')).map((o) => o.key), ['p/old.bin']);
    });

    it('detects a corrupted object by its checksum on read', async () => {
      const s = h.store;
      await s.put('c/model.bin', { bytes: Buffer.from('the model, byte for byte') });
      await h.corrupt('c/model.bin');
      await assert.rejects(bytesOf(await s.get('c/model.bin')), (e: unknown) => e instanceof ChecksumMismatch && /checksum mismatch for c\/model\.bin/.test(e.message));
      // and bytes read against a checksum the reader names (a run's file list)
      await s.put('c/ok.bin', { bytes: Buffer.from('fine') });
      await assert.rejects(bytesOf(await s.get('c/ok.bin', { sha256: 'c'.repeat(64) })), ChecksumMismatch);
      assert.equal(await bytesOf(await s.get('c/ok.bin', { sha256: createHash('sha256').update('fine').digest('hex') })), 'fine');
    });
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from './fs.ts';
import { artifactStoreContract } from './store.case.test.ts';
import { openArtifactStore } from './index.ts';

artifactStoreContract('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dc-fs-store-'));
  return {
    store: new FsArtifactStore(dir),
    async corrupt(key) {
      const f = join(dir, ...key.split('/'));
      const b = await readFile(f);
      b[0] ^= 0xff;
      await writeFile(f, b);
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

test('a put leaves no temporary file behind, failed or not, and a folder store opens from a path or file:// URL', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dc-fs-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = await openArtifactStore(`file://${dir}`);
  assert.equal((s as FsArtifactStore).root, dir);
  await s.put('r/a.bin', { bytes: Buffer.from('a') });
  await assert.rejects(s.put('r/b.bin', { bytes: Buffer.from('b'), sha256: '0'.repeat(64) }));
  assert.deepEqual((await readdir(join(dir, 'r'))).sort(), ['a.bin']);
  assert.equal(((await openArtifactStore(dir)) as FsArtifactStore).root, dir);
  await assert.rejects(openArtifactStore('ftp://host/x'), /unknown scheme; expected a folder, file:\/\/\/path or s3:\/\/bucket\/prefix/);
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHetrec, loadInteractionsCsv, loadMovielens, toMatrix } from './interactions.ts';

describe('interaction loaders', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'deepcut-inter-'));
  it('reads user,item,weight CSVs with or without header, gzip too, and sums repeats', async () => {
    const text = 'user,item,weight,timestamp\nu1,a,2,100\nu2,b,1,50\nu1,a,3,20\n';
    await writeFile(join(dir, 'x.csv'), text);
    await writeFile(join(dir, 'x.csv.gz'), gzipSync(text));
    for (const f of ['x.csv', 'x.csv.gz']) {
      const x = await loadInteractionsCsv(join(dir, f));
      assert.deepEqual(x.users.toArray(), ['u1', 'u2']);
      const { m, time } = toMatrix(x);
      assert.deepEqual([...m.data], [5, 1]);
      assert.deepEqual([...time], [20, 50]);
    }
    await writeFile(join(dir, 'bad.csv'), 'u1,a,2\nu2,b,zero\n');
    await assert.rejects(loadInteractionsCsv(join(dir, 'bad.csv')), /bad\.csv:2: field weight: expected a number, got "zero"/);
    await writeFile(join(dir, 'neg.csv'), 'u1,a,-1\n');
    await assert.rejects(loadInteractionsCsv(join(dir, 'neg.csv')), /neg\.csv:1: field weight: weight must be > 0, got -1/);
  });
  it('reads HetRec user_artists.dat and MovieLens ratings ≥ 4 (CRLF)', async () => {
    await writeFile(join(dir, 'ua.dat'), 'userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n');
    const h = await loadHetrec(join(dir, 'ua.dat'));
    assert.deepEqual([...h.weight], [13883, 11690]);
    await writeFile(join(dir, 'r.csv'), 'userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,3.5,964981247\r\n2,6,5.0,964982224\r\n');
    const mv = await loadMovielens(join(dir, 'r.csv'));
    assert.deepEqual(mv.items.toArray(), ['1', '6']);
    assert.deepEqual([...mv.time], [964982703, 964982224]);
  });
  it('cleans up', async () => rm(dir, { recursive: true, force: true }));
});

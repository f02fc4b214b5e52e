import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crossFit, loadMl100kSide, type SideInfo } from './crossfit.ts';
import { csrFromCoo } from '../signals/index.ts';
import { randomHoldout, testUsers } from '../cf/index.ts';
import { IdMap } from '../domain/ids.ts';
import { Rng } from '../util/rng.ts';

/** 60 users in 3 taste blocks of 12 items (36 items), each hearing ~60% of their block; an item's genre is its block. */
function world() {
  const rng = new Rng(4);
  const r: number[] = [];
  const c: number[] = [];
  for (let u = 0; u < 60; u++) for (let i = 0; i < 12; i++) if (rng.next() < 0.6) r.push(u), c.push((u % 3) * 12 + i);
  const m = csrFromCoo(60, 36, Int32Array.from(r), Int32Array.from(c), new Float32Array(r.length).fill(1));
  const side: SideInfo = {
    genres: Uint8Array.from({ length: 36 * 19 }, (_, q) => (q % 19 === Math.floor(Math.floor(q / 19) / 12) ? 1 : 0)),
    genreCount: 19,
    year: Float64Array.from({ length: 36 }, (_, i) => 1990 + (i % 8)),
    age: Float64Array.from({ length: 60 }, (_, u) => 20 + (u % 30)),
    male: Uint8Array.from({ length: 60 }, (_, u) => u % 2),
    occupation: Int32Array.from({ length: 60 }, (_, u) => u % 4),
    occupations: 4,
  };
  return { m, side };
}

test('crossFit: every candidate gets a figure per fold, lists leave heard items out, and a rerun gives the same lists', async () => {
  const { m, side } = world();
  const split = randomHoldout(m, 0.25, 1);
  // a block's pairs a month apart, a second apart within it
  const t = Float64Array.from(split.train.indices, (i, p) => 880_000_000 + Math.floor(i / 12) * 86_400 * 30 + p);
  const users = testUsers(split.test);
  const spec = { folds: 3, seed: 2, easeLambda: 5, als: { factors: 4, regularization: 1, iterations: 3, threads: 1, seed: 2, computeLoss: false }, alsConfidence: 4, blendWeights: [1, 2], ranker: { rounds: 5, depth: 2, maxRows: 10_000 } };
  const a = await crossFit(split.train, t, side, users, 10, 20, spec);
  assert.deepEqual(a.figures.map((f) => f.key), ['ease', 'als', 'blend_1', 'blend_2', 'ranked_side']);
  for (const f of a.figures) {
    assert.equal(f.perFold.length, 3, f.key);
    assert.ok(f.ndcg > 0 && f.ndcg <= 1, `${f.key} ${f.ndcg}`);
  }
  for (const [key, l] of a.lists) {
    assert.deepEqual([...l.users], [...users], key);
    l.users.forEach((u, j) => {
      const heard = new Set(split.train.indices.subarray(split.train.indptr[u], split.train.indptr[u + 1]));
      assert.ok(l.items[j].length > 0 && [...l.items[j]].every((i) => !heard.has(i)), `${key}: user ${u}`);
    });
  }
  const b = await crossFit(split.train, t, side, users, 10, 20, spec);
  assert.deepEqual([...b.lists.get('ranked_side')!.items].map((x) => [...x]), [...a.lists.get('ranked_side')!.items].map((x) => [...x]));
  const plain = await crossFit(split.train, t, side, users, 10, 20, { ...spec, ranker: undefined });
  assert.ok(!plain.lists.has('ranked_side') && plain.figures.every((f) => f.key !== 'ranked_side'));
  await assert.rejects(crossFit(split.train, t.subarray(1), side, users, 10, 20, spec), /times for/);
});

test('loadMl100kSide: reads genres, year and demographics onto matrix rows, skipping ids the ratings lack', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'deepcut-ml100k-'));
  try {
    const flags = (g: number) => Array.from({ length: 19 }, (_, k) => (k === g ? 1 : 0)).join('|');
    await writeFile(join(dir, 'u.item'), `1|Toy Story (1995)|01-Jan-1995||http://x|${flags(3)}\n2|Other (1997)|01-Jan-1997||http://y|${flags(8)}\n9|Unrated|||http://z|${flags(1)}\n`, 'latin1');
    await writeFile(join(dir, 'u.user'), '1|24|M|technician|85711\n2|53|F|other|94043\n');
    const items = new IdMap(['2', '1']);
    const users = new IdMap(['2', '1']);
    const s = loadMl100kSide(dir, items, users);
    assert.deepEqual([...s.year], [1997, 1995]);
    assert.equal(s.genres[0 * 19 + 8], 1);
    assert.equal(s.genres[1 * 19 + 3], 1);
    assert.equal(s.genres.reduce((a, b) => a + b, 0), 2);
    assert.deepEqual([...s.age], [53, 24]);
    assert.deepEqual([...s.male], [0, 1]);
    assert.equal(s.occupations, 2);
    assert.notEqual(s.occupation[0], s.occupation[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

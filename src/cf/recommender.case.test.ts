/**
 * The contract every recommender passes (after implicit's TestRecommenderBaseMixin and hono's
 * `*.case.test.ts`). A model's test file runs it in a few lines:
 *
 *   recommenderContract('popularity', () => new PopularityRecommender(), PopularityRecommender.load, { skip: { checkerboard: 'no personalization' } });
 *
 * Data with a known answer: a 50 × 50 checkerboard where even users like even items and odd users
 * odd items, with the diagonal held out, so the single best unheard item for user u is item u and
 * an item's (user's) neighbours share its parity. Cases a model cannot meet are skipped by name,
 * each with its reason.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Recommender } from './recommender.ts';
import type { Csr } from '../signals/index.ts';
import { csrFromCoo } from '../signals/index.ts';
import { isDeepcutError } from '../errors.ts';

/** Cases that a model may skip, with a reason. */
export type ContractCase = 'checkerboard' | 'similarItemsBlock' | 'similarUsersBlock';

export interface ContractOptions {
  skip?: Partial<Record<ContractCase, string>>;
}

/** Reads back what the model's `save` wrote (the family's own loader). */
export type Loader = (path: string) => Promise<Recommender>;

/** The n × n checkerboard with the diagonal held out (n even). Values 1. */
export function checkerboard(n: number, value = 1): Csr {
  const r: number[] = [];
  const c: number[] = [];
  for (let u = 0; u < n; u++) for (let j = u % 2; j < n; j += 2) if (j !== u) r.push(u), c.push(j);
  return csrFromCoo(n, n, Int32Array.from(r), Int32Array.from(c), new Float32Array(r.length).fill(value));
}

function heard(m: Csr, u: number): Set<number> {
  return new Set(m.indices.subarray(m.indptr[u], m.indptr[u + 1]));
}

function assertRanked(items: Int32Array, scores: Float32Array): void {
  assert.equal(items.length, scores.length);
  assert.equal(new Set(items).size, items.length, 'no duplicates');
  for (let i = 0; i < scores.length; i++) {
    assert.ok(Number.isFinite(scores[i]), `score ${i} is finite`);
    if (i > 0) assert.ok(scores[i - 1] >= scores[i], 'scores descend');
  }
}

async function rejectsWith(p: () => Promise<unknown> | unknown, code: string, message: RegExp): Promise<void> {
  await assert.rejects(
    async () => p(),
    (e: unknown) => {
      assert.ok(isDeepcutError(e), `expected a DeepcutError, got ${String(e)}`);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    },
  );
}

/** Register the contract tests for one recommender; `make` returns a fresh, unfitted model. */
export function recommenderContract(name: string, make: () => Recommender | Promise<Recommender>, load: Loader, opts: ContractOptions = {}): void {
  const n = 50;
  const board = checkerboard(n);
  const skip = opts.skip ?? {};
  const fitted = async () => {
    const m = await make();
    await m.fit(board);
    return m;
  };

  describe(`recommender contract: ${name}`, () => {
    it('recommends the held-out diagonal item as the best for every user', { skip: skip.checkerboard }, async () => {
      const m = await fitted();
      for (let u = 0; u < n; u++) {
        const r = m.recommend(u, board, 1);
        assert.equal(r.items.length, 1);
        assert.equal(r.items[0], u, `user ${u}`);
      }
    });

    it('never recommends heard or filtered items, and honours candidates', async () => {
      const m = await fitted();
      for (const u of [0, 1, 17, 48]) {
        const r = m.recommend(u, board, 10);
        assert.equal(r.items.length, 10);
        assertRanked(r.items, r.scores);
        const h = heard(board, u);
        for (const i of r.items) assert.ok(!h.has(i), `user ${u} got heard item ${i}`);
      }
      const f = m.recommend(0, board, 5, { filterItems: [0, 1, 3] });
      for (const i of [0, 1, 3]) assert.ok(!f.items.includes(i), `filtered item ${i}`);
      const c = m.recommend(0, board, 10, { candidates: Int32Array.of(0, 1, 2, 7) });
      assert.deepEqual([...c.items].sort((a, b) => a - b), [0, 1, 7], 'candidates minus heard item 2');
      const all = m.recommend(0, board, n, { filterHeard: false });
      assert.equal(all.items.length, n, 'filterHeard: false ranks every item');
    });

    it('returns every unheard item when k exceeds the catalog', async () => {
      const m = await fitted();
      const r = m.recommend(0, board, 10_000);
      assert.equal(r.items.length, n - heard(board, 0).size);
      assertRanked(r.items, r.scores);
    });

    it('finds similar items of the same block, never the item itself', { skip: skip.similarItemsBlock }, async () => {
      const m = await fitted();
      for (let i = 0; i < n; i++) {
        const r = m.similarItems(i, 10);
        assert.equal(r.items.length, 10);
        assertRanked(r.items, r.scores);
        for (const j of r.items) {
          assert.notEqual(j, i);
          assert.equal(j % 2, i % 2, `item ${i} neighbour ${j}`);
        }
      }
    });

    it('finds similar users of the same block, never the user themself', { skip: skip.similarUsersBlock }, async () => {
      const m = await fitted();
      for (let u = 0; u < n; u++) {
        const r = m.similarUsers(u, 10);
        assert.equal(r.items.length, 10);
        for (const v of r.items) {
          assert.notEqual(v, u);
          assert.equal(v % 2, u % 2, `user ${u} neighbour ${v}`);
        }
      }
    });

    it('similarItems and similarUsers never return the query row', async () => {
      const m = await fitted();
      assert.ok(!m.similarItems(3, n).items.includes(3));
      assert.ok(!m.similarUsers(3, n).items.includes(3));
    });

    it('rejects unknown rows and bad k with pinned errors', async () => {
      const m = await fitted();
      // Messages name the row; base.ts's checks word them exactly as `user row 50 is outside 0..49`.
      await rejectsWith(() => m.recommend(n, board, 5), 'unknown_id', /^user row 50 is outside /);
      await rejectsWith(() => m.recommend(-1, board, 5), 'unknown_id', /^user row -1 is outside /);
      await rejectsWith(() => m.similarItems(n, 5), 'unknown_id', /^item row 50 is outside /);
      await rejectsWith(() => m.similarUsers(n + 7, 5), 'unknown_id', /^user row 57 is outside /);
      await rejectsWith(() => m.recommend(0, board, 0), 'invalid_input', /^k must be a positive integer, got 0$/);
    });

    it('fails loudly on NaN, infinite and empty input', async () => {
      for (const bad of [NaN, Infinity]) {
        const data = board.data.slice();
        data[7] = bad;
        await rejectsWith(async () => (await make()).fit({ ...board, data }), 'invalid_input', new RegExp(`confidence at \\D*0\\D+16\\)? is ${bad}`));
      }
      const empty: Csr = { rows: n, cols: n, indptr: new Int32Array(n + 1), indices: new Int32Array(0), data: new Float32Array(0) };
      await rejectsWith(async () => (await make()).fit(empty), 'invalid_input', /cannot fit on an empty matrix \(50×50, 0 non-zeros\)|has no entries/);
    });

    it('saves a file that loads back into a model with the same answers', async () => {
      const m = await fitted();
      const dir = await mkdtemp(join(tmpdir(), 'deepcut-contract-'));
      try {
        const path = join(dir, 'model.bin');
        await m.save(path, { runId: 'contract-test' });
        const back = await load(path);
        assert.equal(back.name, m.name);
        for (const u of [0, 1, 17, 48]) {
          const a = m.recommend(u, board, 10);
          const b = back.recommend(u, board, 10);
          assert.deepEqual([...b.items], [...a.items], `user ${u}`);
          assert.deepEqual([...b.scores], [...a.scores], `user ${u}`);
        }
        if (!skip.similarItemsBlock) assert.deepEqual([...back.similarItems(3, 5).items], [...m.similarItems(3, 5).items]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}

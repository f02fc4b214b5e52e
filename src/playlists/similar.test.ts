/**
 * The one definition of similar tracks and artists, on known answers: factor space (cosine of
 * artist vectors, artists without tracks left out) and co-listening (models without factors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Recommender } from '../cf/index.ts';
import type { Csr } from '../signals/index.ts';
import { artistSpace, artistVectors, CoListening, similarArtists, similarArtistsByText, similarTracks } from './similar.ts';

/** A model with fixed item factors (rows of `items`) and nothing else: enough for similarity. */
function factorStub(items: number[][]): Recommender {
  const data = Float32Array.from(items.flat());
  return { name: 'stub', factors: items[0].length, itemFactors: () => data, userFactors: () => new Float32Array(0), similarItems: () => ({ items: Int32Array.of(9), scores: Float32Array.of(1) }) } as unknown as Recommender;
}
const noFactors = { name: 'counts' } as unknown as Recommender;

/** Users × tracks: u0 and u1 play t0 and t1, u2 plays t2 and t3, u3 skipped t0 (negative). */
const m: Csr = { rows: 4, cols: 4, indptr: Int32Array.of(0, 2, 4, 6, 7), indices: Int32Array.of(0, 1, 0, 1, 2, 3, 0), data: Float32Array.of(1, 1, 1, 1, 1, 1, -1) };

test('artist vectors: the normalised sum of their tracks\' factors; an artist without tracks has none', () => {
  const v = artistVectors([[0, 1], [2], []], { dim: 2, data: Float32Array.of(3, 0, 1, 0, 0, 2) });
  assert.deepEqual([...v[0]], [1, 0]);
  assert.deepEqual([...v[1]], [0, 1]);
  assert.deepEqual([...v[2]], [0, 0]);
});

test('similar artists by factors: cosine, best first; itself and artists without a vector left out', () => {
  // A: tracks 0,1 along x; B: track 2 mostly x; C: track 3 along y; D: no tracks
  const model = factorStub([[1, 0], [2, 0], [1, 0.2], [0, 1]]);
  const space = artistSpace(model, [[0, 1], [2], [3], []], () => assert.fail('no co-listening for a factor model'));
  const r = similarArtists(space, 0, 5)!;
  assert.deepEqual(r.map((n) => n.row), [1, 2]);
  assert.ok(Math.abs(r[0].score - 1 / Math.hypot(1, 0.2)) < 1e-6);
  assert.ok(Math.abs(r[1].score) < 1e-6);
  assert.equal(similarArtists(space, 3, 5), undefined, 'D has no vector');
  assert.equal(similarArtists(space, 7, 5), undefined, 'no such row');
});

test('without factors: similar tracks and artists by shared listeners, positive only', () => {
  const co = new CoListening(m);
  assert.deepEqual(similarTracks(noFactors, () => co, 0, 5), [{ row: 1, score: 1 }]);
  assert.deepEqual(similarTracks(noFactors, () => co, 2, 5), [{ row: 3, score: 1 }]);
  const space = artistSpace(noFactors, [[0], [1], [2, 3]], () => co);
  assert.deepEqual(similarArtists(space, 0, 5), [{ row: 1, score: 1 }]);
  assert.deepEqual(similarArtists(space, 2, 5), [], 'C shares no listener with A or B');
});

test('a factor model answers similar tracks with its own item neighbours', () => {
  assert.deepEqual(similarTracks(factorStub([[1, 0]]), () => assert.fail('not used'), 0, 1), [{ row: 9, score: 1 }]);
});

test('similar artists by text leave the artist itself out and keep k', () => {
  const search = (_r: number, k: number) => [{ row: 2, score: 1 }, { row: 0, score: 0.9 }, { row: 1, score: 0.5 }, { row: 3, score: 0.1 }].slice(0, k);
  assert.deepEqual(similarArtistsByText({ row: () => 2, id: String, search }, 2, 2).map((n) => n.row), [0, 1]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize } from './tokenize.ts';
import { countTerms, describedAs, fitTfidf, topDescriptors, type TfidfModel } from './tfidf.ts';

const bySpace = (s: string) => s.split(' ').filter(Boolean);
const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

/** The weight of `term` for `subject`, 0 when absent. */
function weight(m: TfidfModel, subject: string, term: string): number {
  const r = m.subjects.row(subject);
  const j = m.terms.indexOf(term);
  for (let p = m.matrix.indptr[r]; p < m.matrix.indptr[r + 1]; p++) if (m.matrix.indices[p] === j) return m.matrix.data[p];
  return 0;
}

const docs = [
  { subject_id: 'A', body: 'x x' },
  { subject_id: 'B', body: 'y z' },
  { subject_id: 'A', body: 'y' },
  { subject_id: 'C', body: 'z' },
  { subject_id: 'D', body: '' },
];

test('term counts pool documents per subject', () => {
  const tc = countTerms(docs, { tokenize: bySpace });
  assert.deepEqual(tc.subjects.toArray(), ['A', 'B', 'C', 'D']);
  assert.deepEqual([0, 1, 2].map((i) => tc.term(i)), ['x', 'y', 'z']);
  assert.throws(() => tc.term(3), /term 3 is outside 0..2/);
  assert.deepEqual([...tc.counts.indptr], [0, 2, 4, 5, 5]);
  assert.deepEqual([...tc.counts.indices], [0, 1, 1, 2, 2]);
  assert.deepEqual([...tc.counts.data], [2, 1, 1, 1, 1]);
});

test('TF-IDF weights match hand-computed values (sublinear tf, smooth idf, L2 rows)', () => {
  const m = fitTfidf(countTerms(docs, { tokenize: bySpace }));
  // N = 4 subjects; df(x) = 1, df(y) = 2, df(z) = 2
  const idfX = Math.log(5 / 2) + 1;
  const idfY = Math.log(5 / 3) + 1;
  assert.deepEqual(m.terms, ['y', 'z', 'x']); // by df, then first seen
  close(m.idf[2], idfX);
  close(m.idf[0], idfY);
  close(m.idf[2], 1.916290731874155);
  // A: x twice, y once → (1 + ln 2)·idf(x), 1·idf(y), then unit length
  const ax = (1 + Math.log(2)) * idfX;
  const ay = idfY;
  const n = Math.hypot(ax, ay);
  close(weight(m, 'A', 'x'), ax / n);
  close(weight(m, 'A', 'y'), ay / n);
  close(weight(m, 'A', 'x'), 0.90653, 1e-4);
  // B: y and z once each, equal idf → 1/√2 each
  close(weight(m, 'B', 'y'), Math.SQRT1_2);
  close(weight(m, 'B', 'z'), Math.SQRT1_2);
  close(weight(m, 'C', 'z'), 1);
  // D has no terms: an empty row, not NaN
  assert.equal(m.matrix.indptr[4] - m.matrix.indptr[3], 0);
});

test('vocabulary: min df, max df fraction and cap', () => {
  const tc = countTerms(docs, { tokenize: bySpace });
  const minDf2 = fitTfidf(tc, { minDf: 2 });
  assert.deepEqual(minDf2.terms, ['y', 'z']);
  close(weight(minDf2, 'A', 'y'), 1);
  assert.deepEqual(fitTfidf(tc, { maxDfFraction: 0.25 }).terms, ['x']);
  assert.deepEqual(fitTfidf(tc, { maxVocab: 1 }).terms, ['y']); // df tie y/z: first seen wins
  assert.throws(() => fitTfidf(tc, { minDf: 0 }), /minDf must be a positive integer, got 0/);
  assert.throws(() => fitTfidf(tc, { maxDfFraction: 0 }), /maxDfFraction must be in \(0, 1\], got 0/);
  assert.throws(() => fitTfidf(tc, { maxVocab: 0 }), /maxVocab must be at least 1, got 0/);
});

test('the fast path counts the same terms as tokenize', () => {
  const corpus = [
    { subject_id: 'a', body: 'Dreamy shoegaze, reverb-heavy guitars; the band\'s guitars' },
    { subject_id: 'b', title: 'Live', body: 'heavy guitars and heavy riffs' },
    { subject_id: 'a', body: 'dream pop' },
    { subject_id: 'c', body: 'dream pop' },
  ];
  const fast = countTerms(corpus);
  const slow = countTerms(corpus, { tokenize: (t) => tokenize(t) });
  const bag = (tc: ReturnType<typeof countTerms>, r: number) => {
    const out: string[] = [];
    for (let p = tc.counts.indptr[r]; p < tc.counts.indptr[r + 1]; p++) out.push(`${tc.term(tc.counts.indices[p])}×${tc.counts.data[p]}`);
    return out.sort();
  };
  for (let r = 0; r < 3; r++) assert.deepEqual(bag(fast, r), bag(slow, r));
  assert.ok(bag(fast, 0).includes('guitar×2') && bag(fast, 0).includes('band guitar×1') && bag(fast, 1).includes('heavy guitar×1'));
});

test('top descriptors prefer bigrams over their words', () => {
  const corpus = [
    { subject_id: 'slowdive', body: 'Dream pop and shoegaze: reverb-heavy guitars.' },
    { subject_id: 'slowdive', title: 'Souvlaki review', body: '<p>Dreamy <b>dream pop</b>, reverb heavy and lush.</p>' },
    { subject_id: 'slowdive', body: 'shoegaze' },
    { subject_id: 'metallica', body: 'Thrash metal, heavy riffs, metal anthems.' },
    { subject_id: 'metallica', body: 'thrash metal' },
    { subject_id: 'abba', body: 'Swedish pop, disco.' },
  ];
  const m = fitTfidf(countTerms(corpus));
  // dream, reverb, shoegaze, dream pop and reverb heavy tie at the top (each in 2 of 3 texts, only
  // here); the bigrams take their words' places
  const d = topDescriptors(m, m.subjects.row('slowdive'), 3);
  assert.deepEqual(d.map((x) => x.term), ['dream pop', 'reverb heavy', 'shoegaze']);
  close(d[0].weight, d[2].weight);
  assert.equal(describedAs(topDescriptors(m, m.subjects.row('metallica'), 1)), 'described as: thrash metal');
  // the title is read with the body but is not glued to it by a bigram
  assert.ok(m.terms.includes('souvlaki review') && !m.terms.includes('review dreamy'));
  assert.equal(describedAs([]), '');
  assert.throws(() => topDescriptors(m, 99), /row 99 is outside 0..2/);
});

/**
 * Cultural vectors: TF-IDF term weights per subject (artist or track). All documents about one
 * subject are pooled into one bag of terms; a subject is one "document" for document frequency.
 *
 *   w(s, t) = (1 + ln tf(s, t)) · idf(t),   idf(t) = ln((1 + N) / (1 + df(t))) + 1
 *
 * (sublinear tf; smooth idf as in scikit-learn's TfidfVectorizer), each row then scaled to unit L2
 * norm. N is the number of subjects, df(t) the number of subjects whose pooled text contains t.
 */
import { IdMap } from '../domain/ids.ts';
import type { Csr } from '../signals/csr.ts';
import { DeepcutError } from '../errors.ts';
import { memoTokenizer, type TokenizeOptions } from './tokenize.ts';

/** The part of a {@link import('../domain/schemas.ts').Document} the text features read. */
export interface TextDoc {
  subject_id: string;
  body: string;
  title?: string;
}

/** Raw term counts: subjects × terms, `counts.data` holding how often each term occurs. */
export interface TermCounts {
  subjects: IdMap<string>;
  terms: string[];
  counts: Csr;
}

/** A growable Int32 buffer (occurrence lists run into the tens of millions). */
class IntBuffer {
  data = new Int32Array(1 << 16);
  length = 0;
  push(x: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = x;
  }
}

/**
 * Tokenize every document and count terms per subject. Title and body are read as one text.
 * `tokenizer` defaults to {@link memoTokenizer} (repeated short texts such as tags are tokenized
 * once). Subjects are numbered in order of first appearance; terms likewise. O(total terms).
 */
export function countTerms(docs: Iterable<TextDoc>, opts: { tokenize?: (text: string) => readonly string[]; tokenizeOptions?: TokenizeOptions } = {}): TermCounts {
  const tok = opts.tokenize ?? memoTokenizer(opts.tokenizeOptions);
  const subjects = new IdMap<string>();
  const vocab = new Map<string, number>();
  const terms: string[] = [];
  const rowOf = new IntBuffer();
  const termOf = new IntBuffer();
  for (const d of docs) {
    const row = subjects.add(d.subject_id);
    const text = d.title ? d.title + ' .\n' + d.body : d.body;
    for (const t of tok(text)) {
      let id = vocab.get(t);
      if (id === undefined) {
        id = terms.length;
        vocab.set(t, id);
        terms.push(t);
      }
      rowOf.push(row);
      termOf.push(id);
    }
  }
  return { subjects, terms, counts: countMatrix(subjects.size, terms.length, rowOf.data.subarray(0, rowOf.length), termOf.data.subarray(0, termOf.length)) };
}

/** CSR of occurrence counts from (row, col) occurrence pairs: bucket by row, merge with a dense scratch. */
function countMatrix(rows: number, cols: number, r: Int32Array, c: Int32Array): Csr {
  const n = r.length;
  const start = new Int32Array(rows + 1);
  for (let i = 0; i < n; i++) start[r[i] + 1]++;
  for (let i = 0; i < rows; i++) start[i + 1] += start[i];
  const pos = start.slice(0, rows);
  const byRow = new Int32Array(n);
  for (let i = 0; i < n; i++) byRow[pos[r[i]]++] = c[i];
  const scratch = new Int32Array(cols);
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(n);
  const data = new Float32Array(n);
  let w = 0;
  for (let row = 0; row < rows; row++) {
    const a = w;
    for (let p = start[row]; p < start[row + 1]; p++) {
      const t = byRow[p];
      if (scratch[t]++ === 0) indices[w++] = t;
    }
    indices.subarray(a, w).sort();
    for (let p = a; p < w; p++) {
      data[p] = scratch[indices[p]];
      scratch[indices[p]] = 0;
    }
    indptr[row + 1] = w;
  }
  return { rows, cols, indptr, indices: indices.slice(0, w), data: data.slice(0, w) };
}

export interface TfidfOptions {
  /** Keep terms found in at least this many subjects (default 1). */
  minDf?: number;
  /** Drop terms found in more than this fraction of subjects (default 1: keep all). */
  maxDfFraction?: number;
  /** Keep at most this many terms, the most frequent by df (ties: first seen). Default: no cap. */
  maxVocab?: number;
}

/** A fitted TF-IDF model and its subject × term matrix (rows unit L2 norm, or all zero). */
export interface TfidfModel {
  subjects: IdMap<string>;
  /** Kept terms, most frequent (by df) first; column j of `matrix` is `terms[j]`. */
  terms: string[];
  /** idf per kept term (natural log, smooth). */
  idf: Float64Array;
  matrix: Csr;
}

/**
 * Fit TF-IDF on raw counts: select the vocabulary (min df, max df fraction, cap), compute smooth
 * idf, sublinear tf, and L2-normalise each subject's row. Throws `invalid_input` when an option is
 * out of range.
 */
export function fitTfidf(tc: TermCounts, opts: TfidfOptions = {}): TfidfModel {
  const minDf = opts.minDf ?? 1;
  const maxDfFraction = opts.maxDfFraction ?? 1;
  const maxVocab = opts.maxVocab ?? Number.POSITIVE_INFINITY;
  if (!(minDf >= 1) || !Number.isInteger(minDf)) throw new DeepcutError('invalid_input', `minDf must be a positive integer, got ${minDf}`, { field: 'minDf' });
  if (!(maxDfFraction > 0 && maxDfFraction <= 1)) throw new DeepcutError('invalid_input', `maxDfFraction must be in (0, 1], got ${maxDfFraction}`, { field: 'maxDfFraction' });
  if (!(maxVocab >= 1)) throw new DeepcutError('invalid_input', `maxVocab must be at least 1, got ${maxVocab}`, { field: 'maxVocab' });
  const { counts } = tc;
  const n = counts.rows;
  const df = new Int32Array(counts.cols);
  for (let p = 0; p < counts.indices.length; p++) df[counts.indices[p]]++;
  let kept: number[] = [];
  for (let t = 0; t < counts.cols; t++) if (df[t] >= minDf && df[t] <= maxDfFraction * n) kept.push(t);
  // Most frequent terms first (ties: first seen): the cap keeps a prefix, and the hot columns of
  // the sparse products in LSA sit together in memory.
  kept.sort((a, b) => df[b] - df[a] || a - b);
  if (kept.length > maxVocab) kept = kept.slice(0, maxVocab);
  const newCol = new Int32Array(counts.cols).fill(-1);
  kept.forEach((t, j) => (newCol[t] = j));
  const idf = new Float64Array(kept.length);
  kept.forEach((t, j) => (idf[j] = Math.log((1 + n) / (1 + df[t])) + 1));
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(counts.indices.length);
  const data = new Float32Array(counts.indices.length);
  let w = 0;
  for (let r = 0; r < n; r++) {
    const a = w;
    let norm2 = 0;
    for (let p = counts.indptr[r]; p < counts.indptr[r + 1]; p++) {
      const j = newCol[counts.indices[p]];
      if (j < 0) continue;
      const x = (1 + Math.log(counts.data[p])) * idf[j];
      indices[w] = j;
      data[w++] = x;
      norm2 += x * x;
    }
    const inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
    for (let p = a; p < w; p++) data[p] *= inv;
    indptr[r + 1] = w;
  }
  return {
    subjects: tc.subjects,
    terms: kept.map((t) => tc.terms[t]),
    idf,
    matrix: { rows: n, cols: kept.length, indptr, indices: indices.slice(0, w), data: data.slice(0, w) },
  };
}

/** One descriptor of a subject: a term and its TF-IDF weight. */
export interface Descriptor {
  term: string;
  weight: number;
}

/**
 * The `k` terms that describe subject row `row` best, by TF-IDF weight: "dream pop, shoegaze,
 * reverb heavy". A chosen unigram gives way to a bigram that contains it and weighs at least half
 * as much ("dream" and "pop" give way to "dream pop"). Weight order otherwise.
 */
export function topDescriptors(model: TfidfModel, row: number, k = 5): Descriptor[] {
  const m = model.matrix;
  if (row < 0 || row >= m.rows) throw new RangeError(`row ${row} is outside 0..${m.rows - 1}`);
  const entries: Descriptor[] = [];
  for (let p = m.indptr[row]; p < m.indptr[row + 1]; p++) entries.push({ term: model.terms[m.indices[p]], weight: m.data[p] });
  entries.sort((a, b) => b.weight - a.weight || (a.term < b.term ? -1 : 1));
  const chosen: Descriptor[] = [];
  for (const e of entries) {
    const words = e.term.split(' ');
    if (words.length === 1) {
      if (chosen.length >= k || chosen.some((c) => c.term.split(' ').includes(e.term))) continue;
      chosen.push(e);
      continue;
    }
    // A bigram takes the place of the chosen unigrams it contains, even once k are chosen, when it
    // weighs at least half as much as the word it replaces ("metal" gives way to "thrash metal").
    const at = chosen.findIndex((c) => words.includes(c.term) && e.weight >= 0.5 * c.weight);
    if (at < 0) {
      if (chosen.length < k) chosen.push(e);
      continue;
    }
    const rest = chosen.filter((c, i) => i === at || !words.includes(c.term));
    rest[rest.indexOf(chosen[at])] = e;
    chosen.length = 0;
    chosen.push(...rest);
  }
  return chosen;
}

/** "described as: dream pop, shoegaze, reverb heavy" — the descriptors as a phrase ("" for none). */
export function describedAs(descriptors: readonly Descriptor[]): string {
  return descriptors.length ? `described as: ${descriptors.map((d) => d.term).join(', ')}` : '';
}

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
import type { Csr } from '../signals/index.ts';
import { DeepcutError } from '../errors.ts';
import { scanWords, type TokenizeOptions, type WordInfo } from './tokenize.ts';

/** The part of a {@link import('../domain/schemas.ts').Document} the text features read. */
export interface TextDoc {
  subject_id: string;
  body: string;
  title?: string;
}

/** Raw term counts: subjects × terms, `counts.data` holding how often each term occurs. */
export interface TermCounts {
  subjects: IdMap<string>;
  /** The text of term `id` (0 ≤ id < counts.cols); bigram strings are built on demand. */
  term(id: number): string;
  counts: Csr;
}

/**
 * Open-addressing hash table from an int pair (a, b) to an int: the bigram table, so that a
 * bigram's string is built only for terms that survive vocabulary selection (most bigrams occur
 * once and are dropped by min df).
 */
class PairTable {
  private a = new Int32Array(1 << 16);
  private b = new Int32Array(1 << 16);
  private v = new Int32Array(1 << 16).fill(-1);
  private size = 0;

  get(a: number, b: number): number {
    const mask = this.v.length - 1;
    for (let h = hash2(a, b) & mask; ; h = (h + 1) & mask) {
      if (this.v[h] < 0) return -1;
      if (this.a[h] === a && this.b[h] === b) return this.v[h];
    }
  }

  set(a: number, b: number, value: number): void {
    if (2 * (this.size + 1) > this.v.length) this.grow();
    const mask = this.v.length - 1;
    let h = hash2(a, b) & mask;
    while (this.v[h] >= 0) h = (h + 1) & mask;
    this.a[h] = a;
    this.b[h] = b;
    this.v[h] = value;
    this.size++;
  }

  private grow(): void {
    const { a, b, v } = this;
    this.a = new Int32Array(v.length * 2);
    this.b = new Int32Array(v.length * 2);
    this.v = new Int32Array(v.length * 2).fill(-1);
    this.size = 0;
    for (let i = 0; i < v.length; i++) if (v[i] >= 0) this.set(a[i], b[i], v[i]);
  }
}

function hash2(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) ^ (h >>> 13);
}

/** Counter of term-counting passes (see WordInfo.scratch). */
let passes = 0;

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
 * Tokenize every document (as {@link import('./tokenize.ts').tokenize}, or with `opts.tokenize`)
 * and count terms per subject. Title and body are read as one text, the title its own clause.
 * Repeated short texts (tags: "dream pop" from a thousand listeners) are scanned once. Subjects
 * are numbered in order of first appearance; terms likewise. O(total terms).
 */
export function countTerms(docs: Iterable<TextDoc>, opts: { tokenize?: (text: string) => readonly string[]; tokenizeOptions?: TokenizeOptions } = {}): TermCounts {
  const subjects = new IdMap<string>();
  // Term ids: a unigram (or any string term) has its text in `strings`; a bigram has
  // strings[id] === undefined and its halves in pairFirst (a surface id) / pairSecond (a term id).
  const vocab = new Map<string, number>();
  const strings: (string | undefined)[] = [];
  const pairFirst: number[] = [];
  const pairSecond: number[] = [];
  const surfaces: string[] = [];
  const rowOf = new IntBuffer();
  const termOf = new IntBuffer();
  const termId = (t: string) => {
    let id = vocab.get(t);
    if (id === undefined) {
      id = strings.length;
      vocab.set(t, id);
      strings.push(t);
      pairFirst.push(-1);
      pairSecond.push(-1);
    }
    return id;
  };
  const textOf = (d: TextDoc) => (d.title ? d.title + ' .\n' + d.body : d.body);
  if (opts.tokenize) {
    for (const d of docs) {
      const row = subjects.add(d.subject_id);
      for (const t of opts.tokenize(textOf(d))) {
        rowOf.push(row);
        termOf.push(termId(t));
      }
    }
  } else {
    // Fast path: unigram term ids cached on the lexicon's shared word objects for this pass;
    // bigrams found by (first surface id, second term id) in an int hash table.
    const lemmas = opts.tokenizeOptions?.lemmas ?? true;
    const bigrams = opts.tokenizeOptions?.bigrams ?? true;
    const pass = ++passes;
    const surfaceIds = new Map<string, number>();
    const pairs = new PairTable();
    const memo = new Map<string, Int32Array>();
    const ids = new IntBuffer();
    for (const d of docs) {
      const row = subjects.add(d.subject_id);
      const text = textOf(d);
      const cached = text.length <= 64 ? memo.get(text) : undefined;
      if (cached) {
        for (let i = 0; i < cached.length; i++) {
          rowOf.push(row);
          termOf.push(cached[i]);
        }
        continue;
      }
      ids.length = 0;
      let prev: WordInfo | null = null;
      scanWords(text, lemmas, (w) => {
        if (w === null) {
          prev = null;
          return;
        }
        let sw = w.scratch;
        if (sw === undefined || sw.pass !== pass) {
          let sid = surfaceIds.get(w.surface);
          if (sid === undefined) {
            sid = surfaces.length;
            surfaces.push(w.surface);
            surfaceIds.set(w.surface, sid);
          }
          sw = w.scratch = { pass, term: termId(w.lemma), surface: sid };
        }
        ids.push(sw.term);
        if (bigrams && prev !== null) {
          const first = prev.scratch!.surface;
          let pid = pairs.get(first, sw.term);
          if (pid < 0) {
            pid = strings.length;
            strings.push(undefined);
            pairFirst.push(first);
            pairSecond.push(sw.term);
            pairs.set(first, sw.term, pid);
          }
          ids.push(pid);
        }
        prev = w;
      });
      for (let i = 0; i < ids.length; i++) {
        rowOf.push(row);
        termOf.push(ids.data[i]);
      }
      if (text.length <= 64 && memo.size < 200_000) memo.set(text, ids.data.slice(0, ids.length));
    }
  }
  const term = (id: number): string => {
    if (id < 0 || id >= strings.length) throw new RangeError(`term ${id} is outside 0..${strings.length - 1}`);
    return strings[id] ?? surfaces[pairFirst[id]] + ' ' + strings[pairSecond[id]];
  };
  return { subjects, term, counts: countMatrix(subjects.size, strings.length, rowOf.data.subarray(0, rowOf.length), termOf.data.subarray(0, termOf.length)) };
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
    terms: kept.map((t) => tc.term(t)),
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

/**
 * The text stage's public surface: documents about artists (or tracks) → TF-IDF cultural vectors,
 * descriptors, an LSA embedding and text-similar subjects; plus the ridge map from text vectors
 * into the CF factor space for cold start.
 *
 * ```ts
 * const t = buildTextFeatures(docs.filter((d) => d.subject_kind === 'artist'), { dims: 64, seed: 42 });
 * t.describedAs('a1');        // "described as: dream pop, shoegaze, reverb heavy"
 * t.similar('a1', 10);        // [{ id, score }, …] by LSA cosine
 * ```
 */
import { DeepcutError } from '../errors.ts';
import { countTerms, describedAs, fitTfidf, topDescriptors, type Descriptor, type TextDoc, type TfidfModel, type TfidfOptions } from './tfidf.ts';
import { fitLsa, type LsaModel, type LsaOptions } from './lsa.ts';
import { cosineTopK, similarRows } from './similar.ts';
import type { TokenizeOptions } from './tokenize.ts';

export { tokenize, normalizeText, memoTokenizer } from './tokenize.ts';
export { countTerms, fitTfidf, topDescriptors, describedAs, type TextDoc, type TfidfModel, type Descriptor } from './tfidf.ts';
export { fitLsa, projectLsa, type LsaModel } from './lsa.ts';
export { randomizedSvd } from './svd.ts';
export { cosineTopK, similarRows } from './similar.ts';
export { fitRidge, selectRidge, applyRidge, type RidgeMap } from './ridge.ts';

export interface TextFeatureOptions extends TfidfOptions, LsaOptions {
  tokenize?: TokenizeOptions;
}

/** A subject id with a similarity score. */
export interface Scored {
  id: string;
  score: number;
}

export interface TextFeatures {
  tfidf: TfidfModel;
  lsa: LsaModel;
  /** Top descriptor terms of a subject; `unknown_id` for a subject without documents. */
  descriptors(id: string, k?: number): Descriptor[];
  /** "described as: …" for a subject. */
  describedAs(id: string, k?: number): string;
  /** The `k` subjects whose LSA embedding is closest by cosine (itself excluded). */
  similar(id: string, k: number): Scored[];
  /** The `k` subjects closest to an arbitrary unit vector in the LSA space. */
  nearest(vector: ArrayLike<number>, k: number, exclude?: ReadonlySet<number>): Scored[];
}

/**
 * Documents → TF-IDF (per subject, see {@link fitTfidf}) → LSA embedding (see {@link fitLsa}).
 * Throws `invalid_input` when the documents hold no usable terms at all.
 */
export function buildTextFeatures(docs: Iterable<TextDoc>, opts: TextFeatureOptions = {}): TextFeatures {
  const counts = countTerms(docs, { tokenizeOptions: opts.tokenize });
  const tfidf = fitTfidf(counts, opts);
  if (tfidf.matrix.rows === 0 || tfidf.matrix.cols === 0)
    throw new DeepcutError('invalid_input', `no usable terms in ${tfidf.matrix.rows} subject(s)' documents (after stop words and vocabulary limits)`);
  const lsa = fitLsa(tfidf.matrix, opts);
  const rowOf = (id: string) => {
    const r = tfidf.subjects.row(id);
    if (r < 0) throw new DeepcutError('unknown_id', `no documents about "${id}"`);
    return r;
  };
  const named = (r: { items: Int32Array; scores: Float32Array }): Scored[] => Array.from(r.items, (row, i) => ({ id: tfidf.subjects.id(row), score: r.scores[i] }));
  return {
    tfidf,
    lsa,
    descriptors: (id, k = 5) => topDescriptors(tfidf, rowOf(id), k),
    describedAs: (id, k = 5) => describedAs(topDescriptors(tfidf, rowOf(id), k)),
    similar: (id, k) => named(similarRows(lsa.embedding, lsa.dims, rowOf(id), k)),
    nearest: (vector, k, exclude) => named(cosineTopK(lsa.embedding, lsa.dims, vector, k, exclude)),
  };
}
export { fitTextToFactors, gatherRows } from './coldstart.ts';

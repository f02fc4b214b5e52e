/**
 * Dense text embedding by latent semantic analysis (Deerwester et al. 1990): the truncated SVD
 * A ≈ U·S·Vᵀ of the subject × term TF-IDF matrix. A subject's embedding is its row of U·S
 * (= A·V), scaled to unit length so that a dot product is a cosine. A new subject's TF-IDF vector x
 * is folded in as x·V, scaled the same way.
 */
import type { Csr } from '../signals/index.ts';
import { DeepcutError } from '../errors.ts';
import { randomizedSvd } from './svd.ts';
import { normalizeRows } from '../core/linalg.ts';

export interface LsaOptions {
  /** Embedding width (default 64; clamped to min(subjects, terms)). */
  dims?: number;
  oversample?: number;
  powerIterations?: number;
  seed?: number;
}

export interface LsaModel {
  dims: number;
  /** The top singular values of the TF-IDF matrix, decreasing. */
  singularValues: Float64Array;
  /** V: terms × dims, row-major. */
  components: Float32Array;
  /** Unit-length rows of U·S: subjects × dims, row-major (a subject without terms: all zero). */
  embedding: Float32Array;
}

/** Fit LSA on a TF-IDF matrix (subjects × terms) by randomized SVD; seeded. */
export function fitLsa(tfidf: Csr, opts: LsaOptions = {}): LsaModel {
  if (tfidf.rows === 0 || tfidf.cols === 0) throw new DeepcutError('invalid_input', `LSA needs at least one subject and one term, got ${tfidf.rows}×${tfidf.cols}`);
  const svd = randomizedSvd(tfidf, opts.dims ?? 64, { oversample: opts.oversample, powerIterations: opts.powerIterations, seed: opts.seed });
  const k = svd.rank;
  const embedding = new Float32Array(tfidf.rows * k);
  for (let i = 0; i < tfidf.rows; i++) {
    for (let j = 0; j < k; j++) embedding[i * k + j] = svd.u[i * k + j] * svd.s[j];
  }
  normalizeRows(embedding, k);
  return { dims: k, singularValues: svd.s, components: Float32Array.from(svd.v), embedding };
}

/** Embed a sparse TF-IDF vector (term columns `indices`, weights `values`) as a unit row of x·V. */
export function projectLsa(model: LsaModel, indices: ArrayLike<number>, values: ArrayLike<number>): Float32Array {
  const k = model.dims;
  const out = new Float32Array(k);
  for (let p = 0; p < indices.length; p++) {
    const o = indices[p] * k;
    for (let j = 0; j < k; j++) out[j] += values[p] * model.components[o + j];
  }
  normalizeRows(out, k);
  return out;
}


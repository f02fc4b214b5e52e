/**
 * Cold start from audio (van den Oord, Dieleman, Schrauwen 2013): fit the {@link AudioCnn} to the
 * CF item factors of tracks people play, then predict factors for every track with audio, so a
 * track nobody has played gets a vector in the same taste space (scored against user vectors like
 * any other track). The penultimate layer is kept as an audio-similarity embedding.
 *
 * Used by the pipeline's audio step and by the `audio-cold` evaluation, so both measure the same
 * thing.
 */
import { AudioCnn, type CnnExample } from './cnn.ts';
import { Rng } from '../util/rng.ts';
import { yielder } from '../util/yield.ts';

export interface FactorCnnConfig {
  /** Width of the convolution layers (64: ~10 ms per training patch on one core). */
  channels: number;
  /** Embedding size (penultimate layer). */
  embedding: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Share of the training tracks held out to measure agreement (0 = none). */
  validationShare: number;
}

export const DEFAULT_FACTOR_CNN: FactorCnnConfig = { channels: 64, embedding: 64, epochs: 30, batchSize: 32, learningRate: 2e-3, seed: 42, validationShare: 0.1 };

/** Agreement of predicted and true factor rows. */
export interface Agreement {
  tracks: number;
  /** Pearson correlation over every entry of the two tables. */
  pearson: number;
  /** Mean cosine between a predicted row and its true row. */
  cosine: number;
}

export interface FactorCnnFit {
  cnn: AudioCnn;
  /** Mean training loss (MSE at unit target scale) per epoch. */
  losses: number[];
  trainTracks: number;
  /** Agreement on the held-out share (tracks 0 when `validationShare` is 0 or too few tracks). */
  validation: Agreement;
}

/**
 * Train a CNN from patches to factors on `examples` (targets of length `factors`): a seeded
 * `validationShare` of them is held out and measured, the rest trained on.
 * @example const { cnn, validation } = await fitFactorCnn(examples, 64, { ...DEFAULT_FACTOR_CNN, epochs: 10 })
 */
export async function fitFactorCnn(examples: CnnExample[], factors: number, cfg: FactorCnnConfig = DEFAULT_FACTOR_CNN, onEpoch?: (epoch: number, loss: number) => void): Promise<FactorCnnFit> {
  const order = new Rng(cfg.seed ^ 0x5eed).shuffle(examples.map((_, i) => i));
  const nVal = examples.length >= 20 ? Math.round(cfg.validationShare * examples.length) : 0;
  const val = order.slice(0, nVal).map((i) => examples[i]);
  const train = order.slice(nVal).map((i) => examples[i]);
  const cnn = await AudioCnn.create({ channels: cfg.channels, embedding: cfg.embedding, factors }, cfg.seed);
  const losses = await cnn.train(train, { epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, seed: cfg.seed, onEpoch });
  let validation: Agreement = { tracks: 0, pearson: 0, cosine: 0 };
  if (val.length) {
    const pred = await inferTracks(cnn, val.map((v) => v.patches));
    validation = agreement(pred.factors, concatRows(val.map((v) => v.target)), factors);
  }
  return { cnn, losses, trainTracks: train.length, validation };
}

/** Predicted factors (n × F) and embeddings (n × E), row-major, of n tracks given their patches. */
export async function inferTracks(cnn: AudioCnn, patches: Float32Array[][]): Promise<{ factors: Float32Array; embeddings: Float32Array }> {
  const { factors: F, embedding: E } = cnn.shape;
  const factors = new Float32Array(patches.length * F);
  const embeddings = new Float32Array(patches.length * E);
  const tick = yielder();
  for (let i = 0; i < patches.length; i++) {
    await tick();
    const r = await cnn.infer(patches[i]);
    factors.set(r.factors, i * F);
    embeddings.set(r.embedding, i * E);
  }
  return { factors, embeddings };
}

/** Pearson correlation over all entries and mean row cosine of two row-major tables `dim` wide. */
export function agreement(pred: Float32Array, truth: Float32Array, dim: number): Agreement {
  const n = pred.length;
  let mp = 0, mt = 0;
  for (let i = 0; i < n; i++) (mp += pred[i]), (mt += truth[i]);
  mp /= n;
  mt /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const a = pred[i] - mp;
    const b = truth[i] - mt;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  const rows = n / dim;
  let cos = 0;
  for (let r = 0; r < rows; r++) {
    let d = 0, pa = 0, pb = 0;
    for (let f = r * dim; f < (r + 1) * dim; f++) {
      d += pred[f] * truth[f];
      pa += pred[f] * pred[f];
      pb += truth[f] * truth[f];
    }
    cos += pa > 0 && pb > 0 ? d / Math.sqrt(pa * pb) : 0;
  }
  return { tracks: rows, pearson: sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0, cosine: rows ? cos / rows : 0 };
}

/** Stack equal-length rows into one row-major table. */
export function concatRows(rows: Float32Array[]): Float32Array {
  const dim = rows[0]?.length ?? 0;
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(r, i * dim));
  return out;
}

/**
 * A convolutional network from log-mel patches to a track's collaborative-filtering factors
 * (van den Oord, Dieleman, Schrauwen 2013, "Deep content-based music recommendation"), so a track
 * nobody has played gets a vector in the same space as played ones. Its penultimate layer is an
 * audio-similarity embedding.
 *
 * Convolutions run over time only, with the mel bands as input channels (as in the paper), and
 * are written as im2col + matMul: the wasm backend of TensorFlow.js has no Conv2DBackpropFilter
 * kernel, but slice, concat and matMul all have gradients there, and matMul is its fastest kernel.
 *
 *   patch [T=128 frames × 64 mel] ─conv k4→128, relu, mean-pool 4─ [31 × 128]
 *     ─conv k4→128, relu, mean-pool 4─ [7 × 128] ─conv k4→128, relu─ [4 × 128]
 *     ─global mean ‖ global L2 pool─ [256] ─dense 256→E, relu─ embedding [E]
 *     ─dense E→F─ factors [F]
 *
 * A track's prediction (and embedding) is the mean over its patches.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { DeepcutError } from '../errors.ts';
import { Rng } from '../util/rng.ts';
import { ANALYSIS_RATE } from './decode.ts';
import { PATCH_FRAMES, PATCH_MELS, CNN_N_FFT, CNN_HOP } from './patches.ts';
import { yielder } from '../util/yield.ts';

export { melPatches, PATCH_FRAMES, PATCH_MELS } from './patches.ts';

let backendReady: Promise<void> | undefined;
/**
 * Use the wasm backend, loading its .wasm files from the installed npm package (no network).
 * Falls back to the cpu backend only if wasm cannot start.
 */
export function initTf(): Promise<void> {
  backendReady ??= (async () => {
    const require = createRequire(import.meta.url);
    setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
    if (!(await tf.setBackend('wasm'))) await tf.setBackend('cpu');
    await tf.ready();
  })();
  return backendReady;
}

export interface CnnShape {
  /** Width of the convolution layers. */
  channels: number;
  /** Size of the embedding (penultimate layer). */
  embedding: number;
  /** Number of CF factors predicted. */
  factors: number;
}

type Weights = Record<'w1' | 'b1' | 'w2' | 'b2' | 'w3' | 'b3' | 'wd' | 'bd' | 'wo' | 'bo', tf.Variable>;

/** Concatenate `k` time-shifted copies along the channel axis: [B, T, C] → [B, T−k+1, k·C]. */
function im2col(x: tf.Tensor3D, k: number): tf.Tensor3D {
  const [b, t, c] = x.shape;
  const parts: tf.Tensor3D[] = [];
  for (let i = 0; i < k; i++) parts.push(tf.slice(x, [0, i, 0], [b, t - k + 1, c]));
  return tf.concat(parts, 2);
}

/** 1-D convolution over time (valid, stride 1) + bias + relu via im2col and one matMul. */
function conv(x: tf.Tensor3D, w: tf.Tensor2D, bias: tf.Tensor1D, k: number): tf.Tensor3D {
  const cols = im2col(x, k);
  const [b, t, kc] = cols.shape;
  const y = tf.relu(tf.add(tf.matMul(tf.reshape(cols, [b * t, kc]), w), bias));
  return tf.reshape(y, [b, t, w.shape[1]]);
}

/** Mean-pool over time by `p` (the tail that does not fill a window is dropped). */
function pool(x: tf.Tensor3D, p: number): tf.Tensor3D {
  const [b, t, c] = x.shape;
  const n = Math.floor(t / p);
  return tf.mean(tf.reshape(tf.slice(x, [0, 0, 0], [b, n * p, c]), [b, n, p, c]), 2) as tf.Tensor3D;
}

export interface TrainOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  shape?: Partial<Omit<CnnShape, 'factors'>>;
  /** Called after each epoch with the mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** One training example: a track's patches and its CF factor vector (length F). */
export interface CnnExample {
  patches: Float32Array[];
  target: Float32Array;
}

const MAGIC = 'deepcut-audio-cnn';
const VERSION = 1;

export class AudioCnn {
  private constructor(
    readonly shape: CnnShape,
    private readonly w: Weights,
    /**
     * The network predicts factors divided by this (the RMS of the training targets, set by the
     * first {@link train}), so its last layer works at unit scale whatever the factors' scale.
     */
    private targetScale?: number,
  ) {}

  /** A network with seeded He-normal weights (on the wasm backend). */
  static async create(shape: CnnShape, seed = 42): Promise<AudioCnn> {
    await initTf();
    const rng = new Rng(seed);
    const he = (rows: number, cols: number) => {
      const a = new Float32Array(rows * cols);
      const s = Math.sqrt(2 / rows);
      for (let i = 0; i < a.length; i++) a[i] = rng.normal() * s;
      return tf.variable(tf.tensor2d(a, [rows, cols]));
    };
    const zeros = (n: number) => tf.variable(tf.zeros([n]));
    const C = shape.channels;
    return new AudioCnn(shape, {
      w1: he(4 * PATCH_MELS, C), b1: zeros(C),
      w2: he(4 * C, C), b2: zeros(C),
      w3: he(4 * C, C), b3: zeros(C),
      wd: he(2 * C, shape.embedding), bd: zeros(shape.embedding),
      wo: he(shape.embedding, shape.factors), bo: zeros(shape.factors),
    });
  }

  /** Forward pass on patches [B, 128, 64] → { embedding [B, E], factors [B, F] }. */
  private forward(x: tf.Tensor3D): { embedding: tf.Tensor2D; factors: tf.Tensor2D } {
    const w = this.w;
    let h = pool(conv(x, w.w1 as tf.Tensor2D, w.b1 as tf.Tensor1D, 4), 4);
    h = pool(conv(h, w.w2 as tf.Tensor2D, w.b2 as tf.Tensor1D, 4), 4);
    h = conv(h, w.w3 as tf.Tensor2D, w.b3 as tf.Tensor1D, 4);
    const mean = tf.mean(h, 1);
    const l2 = tf.sqrt(tf.add(tf.mean(tf.square(h), 1), 1e-6));
    const embedding = tf.relu(tf.add(tf.matMul(tf.concat([mean, l2], 1), w.wd as tf.Tensor2D), w.bd)) as tf.Tensor2D;
    const factors = tf.add(tf.matMul(embedding, w.wo as tf.Tensor2D), w.bo) as tf.Tensor2D;
    return { embedding, factors };
  }

  /**
   * Train on examples (one random patch per track per step, MSE to the track's factors, Adam).
   * Returns the mean loss of each epoch. Deterministic for a seed on one backend.
   */
  async train(examples: CnnExample[], opts: TrainOptions = {}): Promise<number[]> {
    await initTf();
    const rng = new Rng(opts.seed ?? 42);
    const bs = opts.batchSize ?? 32;
    const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
    const F = this.shape.factors;
    const inv = 1 / (this.targetScale ??= rmsOf(examples.map((x) => x.target)));
    const losses: number[] = [];
    const tick = yielder(); // a server in this process (the in-process retrain) keeps answering between batches
    for (let e = 0; e < (opts.epochs ?? 10); e++) {
      const order = rng.shuffle(examples.map((_, i) => i));
      let sum = 0;
      let batches = 0;
      for (let s = 0; s < order.length; s += bs) {
        await tick();
        const idx = order.slice(s, s + bs);
        const xb = new Float32Array(idx.length * PATCH_FRAMES * PATCH_MELS);
        const yb = new Float32Array(idx.length * F);
        idx.forEach((i, j) => {
          const ex = examples[i];
          xb.set(ex.patches[rng.int(ex.patches.length)], j * PATCH_FRAMES * PATCH_MELS);
          for (let f = 0; f < F; f++) yb[j * F + f] = ex.target[f] * inv;
        });
        const loss = tf.tidy(() => {
          const x = tf.tensor3d(xb, [idx.length, PATCH_FRAMES, PATCH_MELS]);
          const y = tf.tensor2d(yb, [idx.length, F]);
          const l = optimizer.minimize(() => tf.mean(tf.squaredDifference(this.forward(x).factors, y)) as tf.Scalar, true, Object.values(this.w));
          if (!l) throw new Error('audio CNN: the optimizer returned no loss');
          return l;
        });
        sum += (await loss.data())[0];
        loss.dispose();
        batches++;
      }
      const mean = sum / Math.max(1, batches);
      if (!Number.isFinite(mean)) throw new Error(`audio CNN training diverged at epoch ${e + 1} (loss ${mean})`);
      losses.push(mean);
      opts.onEpoch?.(e + 1, mean);
    }
    optimizer.dispose();
    return losses;
  }

  /** Predicted factors [F] and embedding [E] of one track: the mean over its patches. */
  async infer(patches: Float32Array[]): Promise<{ factors: Float32Array; embedding: Float32Array }> {
    await initTf();
    const [f, e] = tf.tidy(() => {
      const x = tf.tensor3d(concat(patches), [patches.length, PATCH_FRAMES, PATCH_MELS]);
      const out = this.forward(x);
      return [tf.mul(tf.mean(out.factors, 0), this.targetScale ?? 1), tf.mean(out.embedding, 0)];
    });
    const factors = (await f.data()) as Float32Array;
    const embedding = (await e.data()) as Float32Array;
    f.dispose();
    e.dispose();
    return { factors, embedding };
  }

  /**
   * Save as a self-describing file: a JSON header line (magic, version, shapes, patch geometry,
   * the run that made it) then the float32 weights in header order.
   */
  async save(file: string, run = 'unknown'): Promise<void> {
    const names = Object.keys(this.w) as (keyof Weights)[];
    const arrays = await Promise.all(names.map((n) => this.w[n].data() as Promise<Float32Array>));
    const header = { magic: MAGIC, version: VERSION, run, shape: this.shape, targetScale: this.targetScale ?? 1, patch: { frames: PATCH_FRAMES, mels: PATCH_MELS, nFft: CNN_N_FFT, hop: CNN_HOP, sr: ANALYSIS_RATE }, tensors: names.map((n) => ({ name: n, shape: this.w[n].shape })) };
    const head = Buffer.from(JSON.stringify(header) + '\n');
    const body = Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
    writeFileSync(file, Buffer.concat([head, body]));
  }

  /** Load a file written by {@link save}; names any mismatch (magic, version, patch geometry, size). */
  static async load(file: string): Promise<AudioCnn> {
    await initTf();
    const buf = readFileSync(file);
    const nl = buf.indexOf(10);
    let h: { magic: string; version: number; shape: CnnShape; targetScale?: number; patch: { frames: number; mels: number }; tensors: { name: keyof Weights; shape: number[] }[] };
    try {
      h = JSON.parse(buf.subarray(0, nl).toString('utf8'));
    } catch {
      throw new DeepcutError('invalid_input', 'not an audio CNN file (no JSON header)', { file });
    }
    if (h.magic !== MAGIC) throw new DeepcutError('invalid_input', `not an audio CNN file (magic "${h.magic}", expected "${MAGIC}")`, { file });
    if (h.version !== VERSION) throw new DeepcutError('invalid_input', `audio CNN file version ${h.version}, this build reads ${VERSION}`, { file });
    if (h.patch.frames !== PATCH_FRAMES || h.patch.mels !== PATCH_MELS) throw new DeepcutError('invalid_input', `audio CNN patch ${h.patch.frames}×${h.patch.mels}, this build uses ${PATCH_FRAMES}×${PATCH_MELS}`, { file });
    const need = h.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0) * 4;
    const body = buf.subarray(nl + 1);
    if (body.length !== need) throw new DeepcutError('invalid_input', `audio CNN weights are ${body.length} bytes, header needs ${need}`, { file });
    const w = {} as Weights;
    let o = 0;
    const floats = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
    for (const t of h.tensors) {
      const n = t.shape.reduce((x, y) => x * y, 1);
      w[t.name] = tf.variable(tf.tensor(floats.subarray(o, o + n), t.shape));
      o += n;
    }
    return new AudioCnn(h.shape, w, h.targetScale);
  }

  dispose(): void {
    for (const v of Object.values(this.w)) v.dispose();
  }
}

/** Root mean square of every entry of `xs` (1 when they are all zero). */
function rmsOf(xs: Float32Array[]): number {
  let s = 0;
  let n = 0;
  for (const x of xs) for (const v of x) (s += v * v), n++;
  return n && s > 0 ? Math.sqrt(s / n) : 1;
}

function concat(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

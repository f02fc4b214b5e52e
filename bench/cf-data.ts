/**
 * The synthetic-cf-100k data set (../shared/data/synthetic-cf-100k, see its SOURCE.md) for the
 * benchmarks that need real ALS factors: the train split as a confidence CSR (c = 1 + w, as the ALS
 * bench and implicit's reference figures), and ALS factors trained on it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { csrFromCoo, type Csr } from '../src/signals/csr.ts';
import { AlternatingLeastSquares } from '../src/cf/als.ts';

export const CF100K_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'data', 'synthetic-cf-100k');
export const CF100K_USERS = 100_000;
export const CF100K_ITEMS = 50_000;

/** True when the train split is on disk. */
export function cf100kAvailable(): boolean {
  return existsSync(join(CF100K_DIR, 'train.csv.gz'));
}

/**
 * The train split (4,000,215 `user,item,weight` rows, all non-negative integers) as a
 * users × items CSR of confidences 1 + weight.
 */
export function cf100kTrain(): Csr {
  const text = gunzipSync(readFileSync(join(CF100K_DIR, 'train.csv.gz')));
  // three integer columns: walk the bytes once, a field ends at ',' and a row at '\n'
  const cap = text.length >> 2;
  const cols = [new Int32Array(cap), new Int32Array(cap), new Int32Array(cap)];
  let rows = 0;
  let col = 0;
  let acc = 0;
  let digits = 0;
  for (const ch of text) {
    if (ch === 0x2c || ch === 0x0a) {
      if (digits) cols[col][rows] = acc;
      acc = 0;
      if (ch === 0x2c) col++;
      else {
        if (col === 2 && digits) rows++;
        col = 0;
      }
      digits = 0;
    } else if (ch >= 0x30 && ch <= 0x39) {
      acc = acc * 10 + ch - 0x30;
      digits++;
    }
  }
  if (col === 2 && digits) cols[2][rows++] = acc;
  const conf = new Float32Array(rows);
  for (let r = 0; r < rows; r++) conf[r] = 1 + cols[2][r];
  return csrFromCoo(CF100K_USERS, CF100K_ITEMS, cols[0].subarray(0, rows), cols[1].subarray(0, rows), conf);
}

/**
 * Implicit ALS (64 factors, 15 iterations, λ = 0.05, seed 42, 2 threads) on the train split:
 * users × 64 and items × 64 factors, and the train matrix they were fitted on. About 15 s plus ~3 s loading on this machine.
 */
export async function cf100kFactors(): Promise<{ users: Float32Array; items: Float32Array; train: Csr; fitS: number }> {
  const train = cf100kTrain();
  const t0 = performance.now();
  const model = new AlternatingLeastSquares({ factors: 64, iterations: 15, regularization: 0.05, threads: 2, computeLoss: false, seed: 42 });
  await model.fit(train);
  return { users: model.userFactors().slice(), items: model.itemFactors().slice(), train, fitS: (performance.now() - t0) / 1000 };
}

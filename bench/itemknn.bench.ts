/**
 * `npm run bench -- itemknn [--neighbours N] [--repeat N]`: item-kNN's all-pairs neighbour search
 * (cosine weighting, N + 1 kept per item, as ItemKnnRecommender fits it) on synthetic-cf-100k's
 * train split (100,000 users × 50,000 items, 4.0M pairs; the large world's shape): the TypeScript
 * loop against the WASM kernel on 1 and 2 threads, wall and CPU seconds (median of --repeat runs),
 * and whether every variant gave the same bytes.
 */
import type { Bench } from './bench.ts';
import { median, numFlag, peakRssMb } from './bench.ts';
import { cf100kAvailable, cf100kTrain } from './cf-data.ts';
import { allPairsKnn, allPairsKnnThreads, cosineWeight } from '../src/cf/itemknn.ts';
import { transpose, type Csr } from '../src/signals/index.ts';
import { cpuSeconds } from '../src/util/cpu.ts';

function sameCsr(a: Csr, b: Csr): boolean {
  const eq = (x: ArrayBufferView, y: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  return eq(a.indptr, b.indptr) && eq(a.indices, b.indices) && eq(a.data, b.data);
}

const bench: Bench = {
  name: 'itemknn',
  description: "item-kNN's neighbour search (cosine, 101 kept per item) on synthetic-cf-100k's train split: the TypeScript loop against the WASM kernel on 1 and 2 threads (the pipeline fits it with `cf.threads`), wall and CPU seconds, same bytes",
  async run(args) {
    if (!cf100kAvailable()) throw new Error('itemknn bench: ../shared/data/synthetic-cf-100k/train.csv.gz is missing');
    const k = numFlag(args, 'neighbours', 100) + 1;
    const repeat = numFlag(args, 'repeat', 3);
    const w = cosineWeight(transpose(cf100kTrain()));
    const variants: [string, () => Promise<Csr> | Csr][] = [
      ['ts', () => allPairsKnn(w, k)],
      ['wasm_1_thread', () => allPairsKnnThreads(w, k, 1)],
      ['wasm_2_threads', () => allPairsKnnThreads(w, k, 2)],
    ];
    const figures: Record<string, number | string> = { items: w.rows, pairs: w.indices.length, kept_per_item: k };
    let reference: Csr | undefined;
    let same = true;
    for (const [name, run] of variants) {
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < repeat; r++) {
        const c0 = cpuSeconds();
        const t0 = performance.now();
        const s = await run();
        wall.push((performance.now() - t0) / 1000);
        cpu.push(cpuSeconds() - c0);
        reference ??= s;
        same &&= sameCsr(reference, s);
      }
      figures[`${name}_s`] = median(wall);
      figures[`${name}_cpu_s`] = median(cpu);
      console.error(`itemknn bench: ${name} ${median(wall).toFixed(2)} s wall, ${median(cpu).toFixed(2)} CPU s`);
    }
    figures.same_bytes = same ? 'yes' : 'NO';
    figures.speedup_2_threads = (figures.ts_s as number) / (figures.wasm_2_threads_s as number);
    figures.peak_rss_mb = peakRssMb();
    return {
      figures,
      targets: { same_bytes: 'yes' },
      notes: ['CPU seconds count every thread of the process. The pipeline fits item-kNN (the long-tail dial\'s tail source, the rank step\'s source, `cf.model: itemknn`/`auto`) on `cf.threads` threads; the eval\'s families on 1 (the kernel still, when built).'],
    };
  },
};

export default bench;

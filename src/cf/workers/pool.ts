/**
 * A pool of worker threads running the WASM kernels on one shared memory. `threads` counts the
 * calling thread: a pool of 2 is the main thread plus one worker. `run(op, total, chunk, args)`
 * calls kernel `op(s, e, tid, ...args)` over [0, total) in chunks handed out by an atomic counter;
 * every kernel writes only its own rows (or its own chunk slot), so results do not depend on
 * which thread ran which chunk: deterministic for any thread count.
 */
import { Worker } from 'node:worker_threads';
import { instantiate, wasmModule, COUNTER, type AlsKernels, type KernelModule, type KnnKernels } from '../kernels/wasm.ts';

type Kernel = (start: number, end: number, tid: number, ...args: number[]) => void;
type Reply = { ok: true } | { ok: false; error: string };

export class KernelPool {
  private workers: Worker[] = [];
  private waiting: ((r: Reply) => void)[] = [];
  private main: Record<string, Kernel> = {};
  private counter: Int32Array | undefined;

  private constructor(readonly threads: number) {}

  /** Start `threads − 1` workers (none for 1 thread). */
  static async create(threads: number): Promise<KernelPool> {
    const pool = new KernelPool(Math.max(1, Math.floor(threads)));
    for (let t = 1; t < pool.threads; t++) {
      const w = new Worker(new URL('./kernel-worker.mjs', import.meta.url));
      const idx = t - 1;
      w.on('message', (r: Reply) => {
        const f = pool.waiting[idx];
        pool.waiting[idx] = () => {};
        f(r);
      });
      w.on('error', (e) => pool.waiting[idx]?.({ ok: false, error: String(e.stack ?? e) }));
      pool.workers.push(w);
    }
    return pool;
  }

  /** Kernels of the calling thread (for single calls outside `run`). */
  get kernels(): AlsKernels {
    return this.main as unknown as AlsKernels;
  }

  private all(msg: (t: number) => unknown): Promise<void> {
    const done = this.workers.map(
      (w, i) =>
        new Promise<void>((resolve, reject) => {
          this.waiting[i] = (r) => (r.ok ? resolve() : reject(new Error(`kernel worker ${i + 1}: ${r.error}`)));
          w.postMessage(msg(i + 1));
        }),
    );
    return Promise.all(done).then(() => undefined);
  }

  /** Use `memory` (shared) and the kernels of build/wasm/`name`.wasm from now on, in every thread. */
  async attach(memory: WebAssembly.Memory, name: KernelModule = 'als'): Promise<void> {
    this.main = instantiate(memory, name) as unknown as Record<string, Kernel>;
    this.counter = new Int32Array(memory.buffer);
    const module = wasmModule(name);
    await this.all(() => ({ type: 'attach', module, memory, counter: COUNTER }));
  }

  /** Run kernel `op` over rows [0, total) in chunks of `chunk` on every thread; resolves when all are done. */
  async run(op: keyof AlsKernels | keyof KnnKernels, total: number, chunk: number, args: number[]): Promise<void> {
    const c = this.counter!;
    Atomics.store(c, COUNTER >> 2, 0);
    const done = this.all((tid) => ({ type: 'run', op, total, chunk, tid, args }));
    const k = this.main[op];
    for (;;) {
      const s = Atomics.add(c, COUNTER >> 2, chunk);
      if (s >= total) break;
      k(s, Math.min(total, s + chunk), 0, ...args);
    }
    await done;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}

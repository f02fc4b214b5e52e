/**
 * Loader for the AssemblyScript kernels (build/wasm/*.wasm, made by `npm run build`) and the
 * shared-memory arena they run on. One `Arena` = one shared WebAssembly.Memory, laid out once by a
 * bump allocator; typed-array views onto it are what the TypeScript side reads and writes.
 */
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DeepcutError } from '../../errors.ts';

const wasmDir = fileURLToPath(new URL('../../../build/wasm/', import.meta.url));
const modules = new Map<string, WebAssembly.Module>();

/** Exported kernels of als.wasm; pointers are byte offsets into the arena memory. */
export interface AlsKernels {
  cg(start: number, end: number, tid: number, indptr: number, indices: number, data: number, X: number, Y: number, YtY: number, f: number, cgSteps: number, scratch: number): void;
  gram(start: number, end: number, tid: number, Y: number, f: number, outBase: number, chunk: number): void;
  loss(start: number, end: number, tid: number, indptr: number, indices: number, data: number, X: number, Y: number, YtY: number, f: number, lossOut: number, scratch: number): void;
  topk(start: number, end: number, tid: number, Q: number, Yp: number, items: number, stride: number, f: number, k: number, exIndptr: number, exIndices: number, outItems: number, outScores: number, scratch: number): void;
  packItems(start: number, end: number, tid: number, Y: number, f: number, Yp: number): void;
  topk1(q: number, Yp: number, items: number, stride: number, f: number, k: number, exIndices: number, nEx: number, outItems: number, outScores: number, scratch: number): void;
  foldIn(start: number, end: number, tid: number, items: number, conf: number, Y: number, f: number, A: number, b: number): void;
}

/** Exported kernel of knn.wasm (knn.as.ts); pointers are byte offsets into the arena memory. */
export interface KnnKernels {
  knnRows(start: number, end: number, tid: number, wp: number, wi: number, wd: number, tp: number, ti: number, td: number, n: number, k: number, outItems: number, outScores: number, outCount: number, scratch: number): void;
}

/** The kernel modules (build/wasm/<name>.wasm) a {@link KernelPool} runs. */
export type KernelModule = 'als' | 'knn';

/** The compiled module `name` (cached); DeepcutError('unavailable') naming the fix when it was never built. */
export function wasmModule(name = 'als'): WebAssembly.Module {
  let m = modules.get(name);
  if (!m) {
    const path = wasmDir + name + '.wasm';
    if (!existsSync(path)) throw new DeepcutError('unavailable', `WASM kernel ${path} is missing: run npm run build`);
    m = new WebAssembly.Module(readFileSync(path));
    modules.set(name, m);
  }
  return m;
}

/** True when build/wasm/NAME.wasm exists (the kernels were built). */
export function wasmAvailable(name = 'als'): boolean {
  return modules.has(name) || existsSync(wasmDir + name + '.wasm');
}

/** Instantiate kernels on `memory` (shared or not). */
export function instantiate(memory: WebAssembly.Memory, name = 'als'): AlsKernels {
  const inst = new WebAssembly.Instance(wasmModule(name), { env: { memory } });
  return inst.exports as unknown as AlsKernels;
}

const PAGE = 65536;
/** Pages of the largest WebAssembly memory (4 GiB). */
const MAX_PAGES = 65536;
/** Bytes kept free at the bottom of memory (the module's own statics; pool counters at 1024). */
const RESERVED = PAGE;
/** Byte offset of the pool's chunk counter (an i32). */
export const COUNTER = 1024;

/**
 * Bump-allocated layout of a shared memory. Plan with `take` first (sizes in bytes, 16-aligned),
 * then `open()` creates the memory of exactly that size; views come from `f32`/`i32`/`f64`.
 */
export class Arena {
  private top = RESERVED;
  memory: WebAssembly.Memory | undefined;

  /** Reserve `bytes`, return the byte offset. */
  take(bytes: number): number {
    const p = this.top;
    this.top += Math.ceil(bytes / 16) * 16;
    return p;
  }

  get size(): number {
    return this.top;
  }

  /** Whether the plan fits one WebAssembly memory (4 GiB): what {@link open} needs. */
  fits(): boolean {
    return this.pages() <= MAX_PAGES;
  }

  private pages(): number {
    return Math.ceil(this.top / PAGE) + 1;
  }

  /** Create the shared memory (call once, after planning). */
  open(): WebAssembly.Memory {
    const pages = this.pages();
    if (pages > MAX_PAGES) throw new DeepcutError('invalid_input', `model needs ${(this.top / 2 ** 30).toFixed(1)} GiB of kernel memory; WebAssembly allows 4 GiB`);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    return this.memory;
  }

  private buf(): ArrayBufferLike {
    if (!this.memory) throw new Error('arena not opened');
    return this.memory.buffer;
  }
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.buf(), ptr, n);
  }
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.buf(), ptr, n);
  }
  f64(ptr: number, n: number): Float64Array {
    return new Float64Array(this.buf(), ptr, n);
  }
}

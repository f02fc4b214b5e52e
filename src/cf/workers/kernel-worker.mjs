// Worker side of KernelPool (pool.ts). Plain JavaScript on purpose: a worker thread does not
// inherit the tsx loader when the parent was started with the `tsx` CLI, and this file needs no
// types. It instantiates the kernels on the pool's shared memory, then on each `run` takes chunks
// [s, s + chunk) from the shared atomic counter until the range is exhausted.
import { parentPort } from 'node:worker_threads';

let kernels = {};
let counter;
let counterIndex = 0;

parentPort.on('message', (m) => {
  try {
    if (m.type === 'attach') {
      kernels = new WebAssembly.Instance(m.module, { env: { memory: m.memory } }).exports;
      counter = new Int32Array(m.memory.buffer);
      counterIndex = m.counter >> 2;
      parentPort.postMessage({ ok: true });
      return;
    }
    const k = kernels[m.op];
    for (;;) {
      const s = Atomics.add(counter, counterIndex, m.chunk);
      if (s >= m.total) break;
      k(s, Math.min(m.total, s + m.chunk), m.tid, ...m.args);
    }
    parentPort.postMessage({ ok: true });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String(e?.stack ?? e) });
  }
});

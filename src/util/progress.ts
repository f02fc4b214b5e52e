/**
 * Progress for long work: a bar on stderr when it is a terminal and not `--json`, nothing
 * otherwise. `const p = progress('import', total); p.tick(n); p.done();`
 */
import cliProgress from 'cli-progress';

export interface Progress {
  tick(n?: number): void;
  setTotal(total: number): void;
  done(): void;
}

let quiet = false;
/** Turn every bar off (the CLI does this under `--json`). */
export function quietProgress(q = true): void {
  quiet = q;
}

/** Where a worker thread's bars go instead of its stderr (the thread that started it draws them): `(label, total, ticks)`. */
let relay: ((label: string, total: number, ticks: number) => void) | undefined;
/** Send every bar of this thread to `to` (a pipeline task thread, src/pipeline/task-threads.ts). */
export function relayProgress(to: (label: string, total: number, ticks: number) => void): void {
  relay = to;
}

export function progress(label: string, total = 0): Progress {
  if (relay) {
    const to = relay;
    let t = total;
    let pending = 0;
    let last = 0;
    const flush = () => {
      if (pending) to(label, t, pending);
      pending = 0;
      last = performance.now();
    };
    to(label, t, 0);
    return {
      tick(n = 1) {
        pending += n;
        if (performance.now() - last > 100) flush();
      },
      setTotal(x: number) {
        t = x;
      },
      done: flush,
    };
  }
  if (quiet || !process.stderr.isTTY) return { tick() {}, setTotal() {}, done() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(14)} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let value = 0;
  return {
    tick(n = 1) {
      value += n;
      bar.update(value);
    },
    setTotal(t: number) {
      bar.setTotal(t);
    },
    done() {
      bar.stop();
    },
  };
}

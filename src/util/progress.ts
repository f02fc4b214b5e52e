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

export function progress(label: string, total = 0): Progress {
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

/**
 * Whether the store accepts writes, for `/readyz`: a server whose every write fails (a full disk,
 * a file turned read-only, a database that refuses writes) is not ready, although it still reads.
 * The check is a real write — one small meta document, `health/write_probe` — made at most once
 * per `ttlMs` (5 s) whatever the polling rate; concurrent checks share the write in flight.
 */
import type { Store } from '../store/index.ts';

export const PROBE_NS = 'health';

export class WriteProbe {
  private last: { at: number; refused: string | undefined } | undefined;
  private pending: Promise<string | undefined> | undefined;

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 5_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** undefined when the store took the probe write (within the last `ttlMs`), else why it refused. */
  async refused(): Promise<string | undefined> {
    if (this.last && this.now() - this.last.at < this.ttlMs) return this.last.refused;
    this.pending ??= this.probe().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async probe(): Promise<string | undefined> {
    let refused: string | undefined;
    try {
      await this.store.putMeta(PROBE_NS, 'write_probe', { at: new Date().toISOString(), pid: process.pid });
    } catch (e) {
      refused = e instanceof Error ? e.message : String(e);
    }
    this.last = { at: this.now(), refused };
    return refused;
  }
}

const probes = new WeakMap<Store, WriteProbe>();

/** The one probe of a store (so every request of a server shares its cache). */
export function writeProbe(store: Store): WriteProbe {
  let p = probes.get(store);
  if (!p) probes.set(store, (p = new WriteProbe(store)));
  return p;
}

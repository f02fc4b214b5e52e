/**
 * A benchmark: `npm run bench -- NAME [--json]` runs one, `npm run bench` runs all and rewrites
 * BENCHMARKS.md. Each lives in `bench/NAME.bench.ts` and default-exports a {@link Bench}.
 * Figures carry their unit in the key (`load_s`, `rows_per_s`, `peak_rss_mb`); targets are
 * printed beside them, never asserted.
 */
export interface BenchResult {
  /** Figures with units in the keys. */
  figures: Record<string, number | string>;
  /** Targets from the issues, as text (`load_s <= 1`), shown beside the figures. */
  targets?: Record<string, string>;
  notes?: string[];
}

export interface Bench {
  name: string;
  description: string;
  /** Extra arguments after the name are passed through. */
  run(args: string[]): Promise<BenchResult>;
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

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

/** The value after `--name` in a benchmark's extra arguments, or undefined. */
export function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `--name N` as a number, or `dflt`. */
export function numFlag(args: readonly string[], name: string, dflt: number): number {
  const v = flag(args, name);
  return v === undefined ? dflt : Number(v);
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** CPU seconds of this process (all threads) since `from` (a `process.cpuUsage()` taken before). */
export function cpuSince(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
}

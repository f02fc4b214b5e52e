/**
 * How commands print. Human text goes to stdout; with `--json` exactly one JSON object is printed
 * as the last line of stdout and everything else (logs, progress) goes to stderr.
 */
export interface OutputOptions {
  json?: boolean;
}

/** Print a command's result: `human(result)` lines normally, one JSON line under `--json`. */
export function emit<T>(opts: OutputOptions, result: T, human: (r: T) => string): void {
  if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    const text = human(result);
    if (text) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
}

/** Format rows as an aligned text table; numbers right-aligned with `digits` decimals. */
export function table(columns: string[], rows: (string | number | null | undefined)[][], digits = 4): string {
  const cell = (v: string | number | null | undefined) =>
    v === null || v === undefined ? '–' : typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(digits)) : v;
  const cells = rows.map((r) => r.map(cell));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const isNum = columns.map((_, i) => rows.every((r) => typeof r[i] === 'number' || r[i] == null));
  const fmt = (r: string[]) => r.map((v, i) => (isNum[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n');
}

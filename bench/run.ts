/**
 * `npm run bench [-- NAME [--json] [args…]]`: runs one benchmark (or all), prints its figures and
 * the exact command, and records them in BENCHMARKS.md (one section per benchmark; a run of all
 * rewrites the whole file).
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import type { Bench, BenchResult } from './bench.ts';

const here = dirname(fileURLToPath(import.meta.url));
const file = join(here, '..', 'BENCHMARKS.md');
const argv = process.argv.slice(2);
const json = argv.includes('--json');
const rest = argv.filter((a) => a !== '--json');
const name = rest[0];

/** Names of the benchmarks (`bench/NAME.bench.ts`), sorted. */
function names(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length))
    .sort();
}

/**
 * Import one benchmark only when it is about to run: a module loaded for nothing can cost the one
 * measured (the API bench's p99 at 1,000 req/s went from ~4 ms to ~18 ms with every other bench
 * module, TensorFlow.js among them, loaded beside it).
 */
async function load(n: string): Promise<Bench> {
  const m = (await import(pathToFileURL(join(here, `${n}.bench.ts`)).href)) as { default: Bench };
  if (m.default.name !== n) throw new Error(`bench/${n}.bench.ts names itself "${m.default.name}"; a benchmark is named as its file`);
  return m.default;
}

function section(b: Bench, r: BenchResult, command: string): string {
  const rows = Object.entries(r.figures).map(([k, v]) => `| ${k} | ${typeof v === 'number' ? +v.toPrecision(4) : v} | ${r.targets?.[k] ?? ''} |`);
  return [
    `<!-- bench:${b.name} -->`,
    `## ${b.name}`,
    '',
    b.description,
    '',
    `Command: \`${command}\` — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}`,
    '',
    '| figure | value | target |',
    '|---|---|---|',
    ...rows,
    ...(r.notes?.length ? ['', ...r.notes.map((n) => `- ${n}`)] : []),
    `<!-- /bench:${b.name} -->`,
  ].join('\n');
}

const header = `# Benchmarks\n\nMeasured on the project machine (2 cores, 24 GiB). Regenerate all with \`npm run bench\`, one with \`npm run bench -- NAME\`.\n`;

function record(sections: Map<string, string>, rewrite: boolean): void {
  let text = !rewrite && existsSync(file) ? readFileSync(file, 'utf8') : header;
  for (const [n, s] of sections) {
    const re = new RegExp(`<!-- bench:${n} -->[\\s\\S]*?<!-- /bench:${n} -->`);
    text = re.test(text) ? text.replace(re, s) : text.trimEnd() + '\n\n' + s + '\n';
  }
  writeFileSync(file, text.trimEnd() + '\n');
}

/**
 * The README's benchmark summary (between `<!-- summary:start -->` and `<!-- summary:end -->`):
 * every figure that has a target, per benchmark, read back from BENCHMARKS.md so the two agree.
 */
export function summarize(benchmarks: string): string {
  const lines = ['| benchmark | figure | measured | target |', '|---|---|---|---|'];
  const re = /<!-- bench:([\w-]+) -->([\s\S]*?)<!-- \/bench:\1 -->/g;
  for (const m of benchmarks.matchAll(re)) {
    const date = /— (\d{4}-\d{2}-\d{2})/.exec(m[2])?.[1] ?? '';
    for (const row of m[2].split('\n')) {
      const cells = row.split('|').map((c) => c.trim());
      // | figure | value | target |
      if (cells.length === 5 && cells[3] && cells[1] !== 'figure' && !/^-+$/.test(cells[1])) lines.push(`| ${m[1]} (${date}) | ${cells[1]} | ${cells[2]} | ${cells[3]} |`);
    }
  }
  return lines.join('\n');
}

function recordSummary(): void {
  const readme = join(here, '..', 'README.md');
  if (!existsSync(readme) || !existsSync(file)) return;
  const text = readFileSync(readme, 'utf8');
  const re = /<!-- summary:start -->[\s\S]*?<!-- summary:end -->/;
  if (!re.test(text)) return;
  const body = `<!-- summary:start -->\nFigures with a target, from [BENCHMARKS.md](BENCHMARKS.md) (2 cores; see there for the conditions of each run):\n\n${summarize(readFileSync(file, 'utf8'))}\n<!-- summary:end -->`;
  writeFileSync(readme, text.replace(re, body));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();

async function main(): Promise<void> {
  const known = names();
  if (name && !known.includes(name)) {
    console.error(`bench: unknown benchmark "${name}"; known: ${known.join(', ')}`);
    process.exit(2);
  }
  const results: Record<string, BenchResult> = {};
  const sections = new Map<string, string>();
  for (const n of name ? [name] : known) {
    const b = await load(n);
    const args = name ? rest.slice(1) : [];
    const command = `npm run bench -- ${b.name}${args.length ? ' ' + args.join(' ') : ''}`;
    console.error(`bench ${b.name}: ${b.description}`);
    const r = await b.run(args);
    results[b.name] = r;
    sections.set(b.name, section(b, r, command));
    if (!json) {
      console.log(`\n${b.name}  (${command})`);
      for (const [k, v] of Object.entries(r.figures)) console.log(`  ${k.padEnd(32)} ${String(typeof v === 'number' ? +v.toPrecision(4) : v).padStart(12)}   ${r.targets?.[k] ?? ''}`);
      for (const n of r.notes ?? []) console.log(`  note: ${n}`);
    }
  }
  record(sections, !name);
  recordSummary();
  if (json) console.log(JSON.stringify(name ? results[name].figures : Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.figures]))));
}

import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { emit, table } from '../output.ts';
import type { EvalReport } from '../../eval/index.ts';
import { DeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({ ...(await import('../context.ts')), ...(await import('../../log.ts')), ...(await import('../../eval/index.ts')) });

interface SuiteOutcome {
  name: string;
  status: 'ok' | 'skipped' | 'failed';
  seconds: number;
  reason?: string;
  report?: EvalReport;
}

/** `deepcut eval`: every real-data evaluation, side by side; `--only NAME` for one. */
export function register(program: Command): void {
  program
    .command('eval')
    .description('run the real-data evaluations (datasets in --data, default ../shared/data)')
    .option('--data <dir>', 'folder with the data sets', process.env.DEEPCUT_DATA ?? '../shared/data')
    .option('--only <names...>', 'run only these suites')
    .option('--quick', 'smaller, faster versions of each suite')
    .option('--list', 'list the suites and exit')
    .action(async (o: { data: string; only?: string[]; quick?: boolean; list?: boolean }, c: Command) => {
      const { configFrom, globals, log, suites } = await load();
      const config = configFrom(c);
      const g = globals(c);
      if (o.list) {
        emit(g, { suites: suites.map((s) => ({ name: s.name, description: s.description, needs: s.needs })) }, (r) =>
          table(['suite', 'needs', 'description'], r.suites.map((s) => [s.name, s.needs.join(', '), s.description])),
        );
        return;
      }
      const unknown = (o.only ?? []).filter((n) => !suites.some((s) => s.name === n));
      if (unknown.length) throw new DeepcutError('invalid_input', `unknown suite(s) ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`, { field: '--only' });
      const dataDir = resolve(o.data);
      const outcomes: SuiteOutcome[] = [];
      for (const suite of suites.filter((s) => !o.only || o.only.includes(s.name))) {
        const missing = suite.needs.filter((n) => !existsSync(join(dataDir, n)));
        if (missing.length) {
          outcomes.push({ name: suite.name, status: 'skipped', seconds: 0, reason: `missing data: ${missing.map((m) => join(dataDir, m)).join(', ')}` });
          continue;
        }
        const t0 = performance.now();
        log('eval').info({ suite: suite.name }, 'running');
        try {
          const report = await suite.run({ dataDir, seed: config.cf.seed, threads: config.cf.threads, quick: Boolean(o.quick) });
          outcomes.push({ name: suite.name, status: 'ok', seconds: (performance.now() - t0) / 1000, report });
        } catch (e) {
          outcomes.push({ name: suite.name, status: 'failed', seconds: (performance.now() - t0) / 1000, reason: (e as Error).stack ?? String(e) });
        }
        if (!g.json) {
          const last = outcomes[outcomes.length - 1];
          process.stdout.write(human(last) + '\n\n');
        }
      }
      const failed = outcomes.filter((x) => x.status === 'failed');
      if (g.json) {
        const metrics: Record<string, Record<string, number | string>> = {};
        for (const x of outcomes) if (x.report) metrics[x.name] = x.report.metrics;
        emit(g, { suites: outcomes.map(({ report, ...rest }) => ({ ...rest, tables: report?.tables, notes: report?.notes })), metrics }, () => '');
      } else {
        process.stdout.write(table(['suite', 'status', 'seconds'], outcomes.map((x) => [x.name, x.status, Number(x.seconds.toFixed(1))]), 1) + '\n');
      }
      if (failed.length) throw new DeepcutError('blocked', `${failed.length} evaluation suite(s) failed: ${failed.map((f) => f.name).join(', ')}`);
    });
}

function human(x: SuiteOutcome): string {
  const head = `== ${x.name} (${x.status}${x.status === 'ok' ? `, ${x.seconds.toFixed(1)} s` : ''})`;
  if (!x.report) return `${head}\n${x.reason ?? ''}`;
  const parts = [head];
  for (const t of x.report.tables) parts.push(`-- ${t.title}\n${table(t.columns, t.rows)}`);
  for (const n of x.report.notes ?? []) parts.push(`note: ${n}`);
  return parts.join('\n');
}

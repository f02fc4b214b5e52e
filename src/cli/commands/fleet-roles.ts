import type { Command } from 'commander';
import { DeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({
  ...(await import('../context.ts')),
  ...(await import('../../log.ts')),
  ...(await import('../../core/clock.ts')),
  ...(await import('../../pipeline/fleet-roles.ts')),
});

/** Resolve on the first SIGTERM or SIGINT. */
const stopSignal = () => new Promise<NodeJS.Signals>((res) => ['SIGTERM', 'SIGINT'].forEach((s) => process.once(s as NodeJS.Signals, () => res(s as NodeJS.Signals))));

/** `deepcut worker [--concurrency N]` and `deepcut scheduler`: the pipeline's fleet roles (docs/scale.md). */
export function register(program: Command): void {
  program
    .command('worker')
    .description('run pipeline tasks from the queue (queue.url; fleet: DATABASE_URL) until SIGTERM')
    .option('--concurrency <n>', 'tasks at once', '1')
    .action(async (o: { concurrency: string }, c: Command) => {
      const { configFrom, globals, startWorker, log } = await load();
      const concurrency = Number(o.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) throw new DeepcutError('invalid_input', `--concurrency expects a whole number ≥ 1, got ${o.concurrency}`, { field: '--concurrency' });
      const config = configFrom(c);
      const stopped = stopSignal();
      const w = await startWorker(config, { concurrency });
      if (globals(c).json) process.stdout.write(JSON.stringify({ role: 'worker', pid: process.pid, concurrency }) + '\n');
      else process.stdout.write(`deepcut worker ${process.pid}: taking pipeline tasks, ${concurrency} at a time (SIGTERM to stop)\n`);
      const sig = await stopped;
      log('worker').info({ signal: sig }, 'stopping: finishing the tasks under way');
      await w.stop();
    });
  program
    .command('scheduler')
    .description('start the daily pipeline run on the queue; of several schedulers one is active (PostgreSQL advisory lock), the others stand by')
    .action(async (_o, c: Command) => {
      const { configFrom, globals, startScheduler, systemClock, log } = await load();
      const config = configFrom(c);
      const json = globals(c).json;
      const s = startScheduler(config, {
        clock: systemClock,
        onLost: () => process.exit(1), // its supervisor restarts it as a standby
        onTick: (r) => {
          if (r.action !== 'none' && json) process.stdout.write(JSON.stringify({ role: 'scheduler', event: 'run', ...r }) + '\n');
        },
      });
      if (json) process.stdout.write(JSON.stringify({ role: 'scheduler', pid: process.pid, state: 'standby' }) + '\n');
      else process.stdout.write(`deepcut scheduler ${process.pid}: standing by (SIGTERM to stop)\n`);
      void s.active.then(() => {
        if (json) process.stdout.write(JSON.stringify({ role: 'scheduler', pid: process.pid, state: 'active' }) + '\n');
        else process.stdout.write(`deepcut scheduler ${process.pid}: active\n`);
      });
      const sig = await stopSignal();
      log('scheduler').info({ signal: sig }, 'stopping: the lock is released; a run under way is resumed by the next active scheduler');
      await s.stop();
      process.exit(0);
    });
}

/**
 * The worker the queue bench kills: takes tasks from `<engine> <ns>`, prints `started <id>` when a
 * task starts and never finishes it (the parent SIGKILLs this process mid-task).
 */
import { driver, type EngineName } from './engines.ts';

const [engine, ns] = process.argv.slice(2) as [EngineName, string];
const d = await driver(engine, ns);
await d.work(1, async (p) => {
  process.stdout.write(`started ${String(p.id)}\n`);
  await new Promise(() => undefined);
});
process.stdout.write('ready\n');

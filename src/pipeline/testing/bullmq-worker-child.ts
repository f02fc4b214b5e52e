/**
 * A pipeline worker on BullMQ for the fault tests: takes tasks of run `<runId>` under `<prefix>`,
 * prints `started <task id>` and never finishes (the test SIGKILLs it mid-task).
 */
import { BullmqQueue } from '../bullmq-queue.ts';

const [url, prefix, runId, lease] = process.argv.slice(2);
const q = new BullmqQueue({ url, prefix, runId, leaseMs: Number(lease) });
await q.work(async (t) => {
  process.stdout.write(`started ${t.id}\n`);
  await new Promise(() => undefined);
});
process.stdout.write('ready\n');

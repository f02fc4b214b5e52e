/**
 * The body of a pipeline task thread (src/pipeline/task-threads.ts): runs the tasks it is sent with
 * the task handler every worker uses, over the default steps, with no store (see {@link noStore}),
 * or, in a fleet worker, with its own connection to the shared PostgreSQL store.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DeepcutError, isDeepcutError } from '../errors.ts';
import { setLogLevel } from '../log.ts';
import { relayProgress } from '../util/progress.ts';
import { openStore, type Store } from '../store/index.ts';
import { stepTaskHandler } from './task-exec.ts';
import type { Task } from './tasks.ts';
import type { ThreadData, ThreadReply } from './task-threads.ts';
import { defaultSteps } from './steps.ts';

/** A store whose every method fails naming itself: a thread's tasks read run files only. */
function noStore(): Store {
  return new Proxy({} as Store, {
    get(_, prop) {
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return () => {
        throw new DeepcutError('config', `store.${prop}: this task ran on a worker thread, which holds no store (its step sets partsInThreads but uses the store)`);
      };
    },
  });
}

const port = parentPort!;
const data = workerData as ThreadData;
setLogLevel(data.logLevel);
const post = (m: ThreadReply) => port.postMessage(m);
relayProgress((label, total, tick) => post({ type: 'progress', label, total, tick }));
const store = data.withStore && data.config.databaseUrl ? await openStore({ home: data.config.home, databaseUrl: data.config.databaseUrl }) : noStore();
const handler = stepTaskHandler({ config: data.config, store, steps: defaultSteps() });

port.on('message', (m: { id: number; task: Task }) => {
  handler(m.task).then(
    (result) => post({ type: 'done', id: m.id, result: result ?? null }),
    (e: unknown) => post({ type: 'failed', id: m.id, error: e instanceof Error ? e.message : String(e), ...(isDeepcutError(e) ? { code: e.code } : {}) }),
  );
});

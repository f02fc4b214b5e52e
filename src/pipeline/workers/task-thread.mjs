// A pipeline task thread's first module (src/pipeline/task-threads.ts starts it): loads the thread's
// TypeScript entry, or its compiled .js in dist/. A source checkout run without a TypeScript loader in
// this thread (bin/deepcut.js registers tsx in the main thread only) registers tsx here first.
import { workerData } from 'node:worker_threads';

try {
  await import(workerData.entry);
} catch (e) {
  if (e?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
  const { register } = await import('tsx/esm/api');
  register();
  await import(`${workerData.entry}?tsx`);
}

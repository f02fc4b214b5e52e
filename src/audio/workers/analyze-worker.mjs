// Worker side of the audio analysis pool (batch.ts). Plain JavaScript that registers the tsx
// loader itself, because a worker thread does not inherit it when the parent runs under the tsx
// CLI; then each message { id, job } is answered with { id, result } or { id, error }.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runAudioJob } = await import('../job.ts');

parentPort.on('message', async (m) => {
  try {
    const result = await runAudioJob(m.job);
    parentPort.postMessage({ id: m.id, result }, result.patches ? [result.patches.buffer] : []);
  } catch (e) {
    const err = e && typeof e === 'object' ? e : { message: String(e) };
    parentPort.postMessage({ id: m.id, error: { name: err.name, code: err.code, message: err.message } });
  }
});
parentPort.postMessage({ ready: true });

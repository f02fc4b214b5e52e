// Worker side of the audio analysis pool (batch.ts). Plain JavaScript, so that it runs the same from
// src/ and from the compiled dist/src/: beside the compiled job.js it imports that; in a source
// checkout it registers the tsx loader itself (a worker thread does not inherit it when the parent
// runs under the tsx CLI) and imports job.ts. Each message { id, job } is answered with
// { id, result } or { id, error }.
import { parentPort } from 'node:worker_threads';
import { existsSync } from 'node:fs';

const compiled = new URL('../job.js', import.meta.url);
const fromDist = existsSync(compiled);
if (!fromDist) (await import('tsx/esm/api')).register();
const { runAudioJob } = await import(fromDist ? compiled.href : '../job.ts');

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

/**
 * CPU time of the work of this thread. In the main thread: the process's (`process.cpuUsage`, its
 * helper threads included). In a worker thread, whose siblings share the process's figure: this
 * thread's own user + system time from `/proc/thread-self/stat` (Linux; read synchronously, so on
 * this thread), else the process's.
 */
import { readFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** /proc stat times are in clock ticks: 100 per second on Linux (USER_HZ). */
const TICK_S = 0.01;

function threadSelf(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after the name: state is f[0]; utime (field 14) is f[11], stime f[12]
    return (Number(f[11]) + Number(f[12])) * TICK_S;
  } catch {
    return undefined;
  }
}

/** Seconds of CPU so far, as described above; subtract two readings for a piece of work. */
export function cpuSeconds(): number {
  if (!isMainThread) {
    const t = threadSelf();
    if (t !== undefined) return t;
  }
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * The pipeline's fleet roles as real processes on loopback, for tests and benches: `deepcut
 * worker` and `deepcut scheduler` started in process groups of their own (so `stop()` ends each
 * with its children, also when a test fails), their stdout (JSON lines under `--json`) and stderr
 * (the log) kept. A bench drives a run on N workers with {@link startRole}('worker', …) N times
 * and `runOnQueue` (src/pipeline/fleet-roles.ts) or `deepcut pipeline run` with `queue.url` set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/deepcut.js', import.meta.url));

export interface RoleProcess {
  proc: ChildProcess;
  /** stdout so far (one JSON object a line with `--json`). */
  out(): string;
  /** stderr so far (the log). */
  log(): string;
  /** Whether it has exited. */
  exited(): boolean;
  /** `signal` (default SIGTERM) to the process group; resolves with the exit code or signal. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/** Start `deepcut --home <home> --json <role> [...args]` with `env` added to this process's. */
export function startRole(role: 'worker' | 'scheduler' | 'pipeline', home: string, env: Record<string, string>, args: string[] = []): RoleProcess {
  const proc = spawn(process.execPath, [bin, '--home', home, '--json', role, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: true });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const gone = new Promise<number | string | null>((res) => proc.once('exit', (code, sig) => res(code ?? sig)));
  let done = false;
  void gone.then(() => (done = true));
  return {
    proc,
    out: () => out,
    log: () => err,
    exited: () => done,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!done) {
        try {
          process.kill(-proc.pid!, signal);
        } catch {
          /* already gone */
        }
      }
      return gone;
    },
  };
}

/** Why Redis at `url` cannot be used here, or undefined when it answers. */
export async function redisDown(url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((res) => {
    const s = new Socket();
    s.setTimeout(2000);
    s.once('connect', () => (s.destroy(), res(undefined)));
    s.once('timeout', () => (s.destroy(), res(`Redis at ${u.host} did not answer in 2 s`)));
    s.once('error', (e) => res(`Redis at ${u.host} is unreachable (${e.message})`));
    s.connect(Number(u.port || 6379), u.hostname);
  });
}

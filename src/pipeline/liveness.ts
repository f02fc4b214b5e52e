/**
 * Who runs a pipeline run, and finding runs whose process died. A running run's manifest names
 * its owner (pid, host) and a heartbeat the owner rewrites every {@link HEARTBEAT_MS}. A `running`
 * run is dead when its owner is on this host and its pid no longer exists, or when its heartbeat
 * is older than {@link STALE_MS} (an owner on another host sharing the home, or a reused pid). A
 * manifest from before owners were recorded counts as dead once unchanged for {@link STALE_MS}.
 * {@link reapDeadRuns} marks dead runs `failed`, with the step that was running named, so nothing
 * stays `running` forever; a live run in another process is left alone.
 */
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunManifest } from './runner.ts';

/** How often a running pipeline rewrites its heartbeat. */
export const HEARTBEAT_MS = 30_000;
/** A heartbeat older than this means the owner is gone (20 missed beats). */
export const STALE_MS = 10 * 60_000;

/** The process that runs a run. */
export interface RunOwner {
  pid: number;
  host: string;
  /** ISO instant of the owner's last sign of life (wall clock, whatever clock the run uses). */
  heartbeatAt: string;
}

/** Runs this process is running now (a run naming this pid that is not here was left by an earlier process with the same pid: a restarted container's pid 1). */
export const runsHere = new Set<string>();

/** This process as a run's owner, beating now. */
export function thisOwner(now = new Date()): RunOwner {
  return { pid: process.pid, host: hostname(), heartbeatAt: now.toISOString() };
}

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LivenessOptions {
  now?: Date;
  host?: string;
  alive?: (pid: number) => boolean;
  staleMs?: number;
}

/**
 * Why a `running` run's owner is gone, or undefined when it may be alive. `changedAt` is when the
 * manifest was last written (for manifests without an owner).
 */
export function deadOwner(m: RunManifest, changedAt: Date, o: LivenessOptions = {}): string | undefined {
  if (m.status !== 'running') return undefined;
  const now = (o.now ?? new Date()).getTime();
  const staleMs = o.staleMs ?? STALE_MS;
  const owner = m.owner;
  if (!owner) return now - changedAt.getTime() > staleMs ? `no owner recorded and the manifest unchanged since ${changedAt.toISOString()}` : undefined;
  if (owner.host === (o.host ?? hostname())) {
    if (!(o.alive ?? pidAlive)(owner.pid)) return `process ${owner.pid} on ${owner.host} is gone`;
    if (owner.pid === process.pid && !runsHere.has(m.runId)) return `process ${owner.pid} on ${owner.host} is gone (this process has its pid now)`;
  }
  const beat = Date.parse(owner.heartbeatAt);
  if (!(now - beat <= staleMs)) return `process ${owner.pid} on ${owner.host} last signalled at ${owner.heartbeatAt}, over ${Math.round(staleMs / 60_000)} min ago`;
  return undefined;
}

/** Mark `m` (a dead run) failed: the step(s) that were running failed with `why`. Returns `m`. */
export function markDead(m: RunManifest, why: string, now: Date): RunManifest {
  const running = m.order.filter((s) => m.steps[s]?.status === 'running');
  const msg = `the run's process stopped without finishing (${why}; found ${now.toISOString()}); resume with \`deepcut pipeline run --resume ${m.runId}\``;
  for (const s of running) Object.assign(m.steps[s], { status: 'failed', finishedAt: now.toISOString(), error: msg });
  m.status = 'failed';
  m.error = running.length ? `step ${running.join(', ')} was running: ${msg}` : msg;
  return m;
}

/**
 * Find the `running` runs under `<home>/runs` whose process died and mark them failed in their
 * manifests. Returns the runs marked. A manifest that cannot be rewritten (a read-only home) is
 * reported as failed all the same, and stays as it was on disk.
 */
export async function reapDeadRuns(home: string, o: LivenessOptions = {}): Promise<RunManifest[]> {
  const dir = join(home, 'runs');
  if (!existsSync(dir)) return [];
  const now = o.now ?? new Date();
  const out: RunManifest[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name, 'run.json');
    let m: RunManifest;
    let changedAt: Date;
    try {
      m = JSON.parse(await readFile(path, 'utf8')) as RunManifest;
      changedAt = (await stat(path)).mtime;
    } catch {
      continue; // not a run folder, or a manifest being replaced right now
    }
    const why = deadOwner(m, changedAt, { ...o, now });
    if (!why) continue;
    markDead(m, why, now);
    out.push(m);
    const tmp = `${path}.${process.pid}.reap.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(m, null, 2));
      await rename(tmp, path);
    } catch {
      /* read-only home: the caller still sees the run as failed */
    }
  }
  return out;
}

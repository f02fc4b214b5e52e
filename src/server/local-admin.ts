/**
 * `<home>/server.json`: written by a running `deepcut serve` (mode 0600), removed when it stops.
 * It says where the server listens and holds a local admin key that exists only in the server's
 * memory, so commands on this machine that can read the home (and so could open the store, were
 * it not locked) manage keys through the server while it owns the embedded store. A file left by
 * a killed server is recognised by its dead pid and ignored.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { newKey, type KeyVerifier } from './auth.ts';
import { pidAlive } from '../pipeline/index.ts';

export interface ServerFile {
  url: string;
  pid: number;
  host: string;
  startedAt: string;
  /** An admin key known to this server process only. */
  adminKey: string;
}

export const serverFilePath = (home: string) => join(home, 'server.json');

/**
 * Make a local admin key, make `verifier` accept it, and write `<home>/server.json` (0600).
 * Throws when the file cannot be written (a read-only home): the caller serves on without it.
 */
export function publishLocalAdmin(home: string, url: string, verifier: KeyVerifier): ServerFile {
  const { key, rec } = newKey({ scopes: ['admin'], name: `local admin (deepcut serve, pid ${process.pid})` });
  verifier.allowLocal(rec);
  const file: ServerFile = { url, pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), adminKey: key };
  const path = serverFilePath(home);
  mkdirSync(home, { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
  return file;
}

/** Remove `<home>/server.json` when it is this process's. */
export function withdrawLocalAdmin(home: string): void {
  if (readServerFile(home)?.pid === process.pid) rmSync(serverFilePath(home), { force: true });
}

/** The running server's file: undefined when there is none, or its server is gone. */
export function readServerFile(home: string): ServerFile | undefined {
  let f: ServerFile;
  try {
    f = JSON.parse(readFileSync(serverFilePath(home), 'utf8')) as ServerFile;
  } catch {
    return undefined;
  }
  if (f.host === hostname() && !pidAlive(f.pid)) return undefined;
  return f;
}

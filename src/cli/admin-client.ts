/**
 * The admin API of a running server, for commands that must work while `deepcut serve` owns the
 * embedded store (`deepcut keys`). Error answers become the DeepcutError of their code, so the
 * exit code is the one the server's status stands for (401/403 → 8, 429 → 9, 503 → 6…).
 */
import { DeepcutError, type ErrorCode } from '../errors.ts';

export interface ServerTarget {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** An API key with admin scope. */
  key?: string;
}

const codes: readonly ErrorCode[] = ['invalid_input', 'config', 'not_found', 'unknown_id', 'conflict', 'unavailable', 'blocked', 'unauthorized', 'forbidden', 'rate_limited'];

/** `method path` on the server with `body` as JSON; the parsed answer, or the server's error as a DeepcutError. */
export async function adminRequest<T>(target: ServerTarget, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const url = new URL(path, reachable(target.url)).toString();
  let r: Response;
  try {
    r = await fetch(url, {
      method,
      headers: { ...(target.key ? { authorization: `Bearer ${target.key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new DeepcutError('unavailable', `cannot reach the server at ${target.url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`, {}, { cause: e });
  }
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (r.ok) return json as T;
  const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
  const code = codes.includes(err?.code as ErrorCode) ? (err!.code as ErrorCode) : r.status === 429 ? 'rate_limited' : 'unavailable';
  throw new DeepcutError(code, `server ${target.url} answered ${r.status}: ${err?.message ?? text.slice(0, 200)}`);
}

/** A listening address a client can connect to: the wildcard addresses become loopback. */
function reachable(url: string): string {
  return url.replace('//0.0.0.0', '//127.0.0.1').replace('//[::]', '//[::1]');
}

/**
 * API keys with scopes. A key is `dc_<id>_<secret>` (id 12 hex chars, secret 32 random bytes in
 * base64url); the store keeps only `sha256(salt ‖ secret)` with a per-key random salt, in meta
 * namespace `api_keys` under the id. The secret has 256 bits of entropy, so one fast hash is
 * enough (no password stretching needed) and verification costs a microsecond per request.
 * A key may be bound to a user: ListenBrainz-style submissions with it are that user's listens.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../store/index.ts';
import { DeepcutError } from '../errors.ts';

export const Scope = z.enum(['read', 'ingest', 'admin']);
export type Scope = z.infer<typeof Scope>;
export const NS = 'api_keys';

export interface StoredKey {
  id: string;
  name: string;
  scopes: Scope[];
  user_id: string | null;
  salt: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

/** What a request authenticated as (the public part of a key). */
export interface KeyInfo {
  id: string;
  name: string;
  scopes: Scope[];
  user_id: string | null;
}

const hashOf = (salt: string, secret: string) => createHash('sha256').update(salt).update(secret).digest('hex');
const KEY_RE = /^dc_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** Parse `read,ingest` into scopes; throws invalid_input naming a bad one. */
export function parseScopes(s: string): Scope[] {
  const parts = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (parts.length === 0) throw new DeepcutError('invalid_input', 'expected at least one scope of read, ingest, admin', { field: '--scope' });
  for (const p of parts) if (!Scope.safeParse(p).success) throw new DeepcutError('invalid_input', `unknown scope "${p}"; expected read, ingest or admin`, { field: '--scope' });
  return [...new Set(parts)] as Scope[];
}

/** Create a key, store its hash, and return the key text (shown once) with its public info. */
export async function createKey(store: Store, opts: { scopes: Scope[]; name?: string; userId?: string; now?: Date }): Promise<{ key: string; info: KeyInfo }> {
  const { key, rec } = newKey(opts);
  await store.putMeta(NS, rec.id, rec);
  return { key, info: publicInfo(rec) };
}

/** A fresh key: its text (`dc_<id>_<secret>`) and the record to keep (hash and salt, never the secret). */
export function newKey(opts: { scopes: Scope[]; name?: string; userId?: string; now?: Date }): { key: string; rec: StoredKey } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('hex');
  const rec: StoredKey = {
    id,
    name: opts.name ?? `key-${id}`,
    scopes: opts.scopes,
    user_id: opts.userId ?? null,
    salt,
    hash: hashOf(salt, secret),
    created_at: (opts.now ?? new Date()).toISOString(),
    revoked_at: null,
  };
  return { key: `dc_${id}_${secret}`, rec };
}

export async function listKeys(store: Store): Promise<(KeyInfo & { created_at: string; revoked_at: string | null })[]> {
  return (await store.listMeta<StoredKey>(NS)).map(({ value: k }) => ({ ...publicInfo(k), created_at: k.created_at, revoked_at: k.revoked_at }));
}

/** Revoke by id or name; throws not_found when no such key. */
export async function revokeKey(store: Store, idOrName: string, now = new Date()): Promise<KeyInfo> {
  const k = (await store.listMeta<StoredKey>(NS)).find((x) => x.key === idOrName || x.value.name === idOrName)?.value;
  if (!k) throw new DeepcutError('not_found', `no API key with id or name "${idOrName}"`);
  await store.putMeta(NS, k.id, { ...k, revoked_at: now.toISOString() });
  return publicInfo(k);
}

const publicInfo = (k: StoredKey): KeyInfo => ({ id: k.id, name: k.name, scopes: k.scopes, user_id: k.user_id });

/**
 * Verifies presented keys against the store, caching stored records for `ttlMs` so a revoked key
 * stops working within that time (default 5 s) without a store read per request.
 */
export class KeyVerifier {
  private readonly cache = new Map<string, { rec: StoredKey | undefined; at: number }>();
  /** Keys that live only in this process, never in the store (the server's local admin key). */
  private readonly local = new Map<string, StoredKey>();
  constructor(
    private readonly store: Store,
    private readonly ttlMs = 5_000,
  ) {}

  /** The key's info, or a DeepcutError('unauthorized') saying what is wrong. */
  async verify(presented: string): Promise<KeyInfo> {
    const m = KEY_RE.exec(presented);
    if (!m) throw new DeepcutError('unauthorized', 'malformed API key (expected dc_<id>_<secret>)');
    const [, id, secret] = m;
    const rec = this.local.get(id) ?? (await this.stored(id));
    if (!rec) throw new DeepcutError('unauthorized', 'unknown API key');
    const a = Buffer.from(hashOf(rec.salt, secret), 'hex');
    const b = Buffer.from(rec.hash, 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new DeepcutError('unauthorized', 'unknown API key');
    if (rec.revoked_at) throw new DeepcutError('unauthorized', `API key ${rec.name} was revoked at ${rec.revoked_at}`);
    return publicInfo(rec);
  }

  /**
   * The key's info when the cache already holds its valid record, without a store read; else
   * undefined. Lets a valid key through from an address that is blocked for failed attempts.
   */
  verifyCached(presented: string): KeyInfo | undefined {
    const m = KEY_RE.exec(presented);
    const c = m ? this.cache.get(m[1]) : undefined;
    if (!m || !c?.rec || c.rec.revoked_at || performance.now() - c.at > this.ttlMs) return undefined;
    const a = Buffer.from(hashOf(c.rec.salt, m[2]), 'hex');
    const b = Buffer.from(c.rec.hash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? publicInfo(c.rec) : undefined;
  }

  /** The stored record of key `id`, read at most once per `ttlMs`. */
  private async stored(id: string): Promise<StoredKey | undefined> {
    let c = this.cache.get(id);
    if (!c || performance.now() - c.at > this.ttlMs) {
      c = { rec: await this.store.getMeta<StoredKey>(NS, id), at: performance.now() };
      this.cache.set(id, c);
    }
    return c.rec;
  }

  /** Forget cached records (after a revoke in this process). */
  clear(): void {
    this.cache.clear();
  }

  /** Accept `rec`'s key in this process only (it is not stored, so no other process knows it). */
  allowLocal(rec: StoredKey): void {
    this.local.set(rec.id, rec);
  }
}

/** The key text from `Authorization: Bearer <key>` or `Authorization: Token <key>` (ListenBrainz). */
export function presentedKey(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(?:Bearer|Token)\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/**
 * Failed authentications per client address in fixed windows: after `max` failures within
 * `windowMs` the address is blocked until its window ends. Valid keys never count. Example:
 * `const f = new AuthFailures(20, 60_000); f.fail(ip); f.blockedFor(ip)` → seconds left, or 0.
 */
export class AuthFailures {
  private readonly byAddress = new Map<string, { n: number; until: number }>();
  constructor(
    readonly max: number,
    readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count one failed authentication from `address`. */
  fail(address: string): void {
    const t = this.now();
    let w = this.byAddress.get(address);
    if (!w || w.until <= t) {
      if (this.byAddress.size >= 100_000) for (const [a, x] of this.byAddress) if (x.until <= t) this.byAddress.delete(a);
      this.byAddress.set(address, (w = { n: 0, until: t + this.windowMs }));
    }
    w.n++;
  }

  /** Whole seconds until `address` may try again (0: not blocked). */
  blockedFor(address: string): number {
    const w = this.byAddress.get(address);
    const t = this.now();
    return w && w.until > t && w.n >= this.max ? Math.ceil((w.until - t) / 1000) : 0;
  }
}

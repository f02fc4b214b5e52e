/**
 * One active scheduler among several: a PostgreSQL session-level advisory lock, keyed by the
 * schema (two deployments, or two tests, on one database never contend). The holder keeps one
 * connection open; when its process dies the server ends the session and frees the lock, and a
 * standby polling every `pollMs` takes it. A holder that loses its connection is no longer the
 * leader: {@link LeaderLock.onLost} is called, and the process must stop acting (the CLI exits,
 * its supervisor restarts it as a standby).
 */
import pg from 'pg';
import { redactUrl } from '../store/postgres.ts';

/** The lock's name, hashed with the schema into the advisory lock key. */
const LOCK = 'deepcut-scheduler';

export class LeaderLock {
  private client: pg.Client | undefined;
  private held = false;
  private lost: ((why: string) => void) | undefined;

  constructor(private readonly databaseUrl: string) {}

  /** Whether this process holds the lock now. */
  get isLeader(): boolean {
    return this.held;
  }

  /** Called once if the lock is lost (the connection broke) after it was taken. */
  onLost(fn: (why: string) => void): void {
    this.lost = fn;
  }

  /** Try to take the lock without waiting; true when this process holds it (now or already). */
  async tryAcquire(): Promise<boolean> {
    if (this.held) return true;
    if (!this.client) {
      const c = new pg.Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5000, keepAlive: true });
      c.on('error', (e) => this.drop(`connection to ${redactUrl(this.databaseUrl)} failed: ${e.message}`));
      c.on('end', () => this.drop('connection closed'));
      await c.connect();
      this.client = c;
    }
    const r = await this.client.query("SELECT pg_try_advisory_lock(hashtext($1 || ':' || current_schema())) AS ok", [LOCK]);
    this.held = r.rows[0].ok === true;
    return this.held;
  }

  /**
   * Take the lock, polling every `pollMs` until it is free (or `signal` aborts: then false).
   * @example const lock = new LeaderLock(url); if (await lock.acquire(2000, ac.signal)) runScheduler()
   */
  async acquire(pollMs: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      try {
        if (await this.tryAcquire()) return true;
      } catch {
        await this.reset(); // the server is unreachable: try a new connection at the next poll
      }
      await new Promise<void>((res) => {
        const t = setTimeout(res, pollMs);
        signal?.addEventListener('abort', () => (clearTimeout(t), res()), { once: true });
      });
    }
  }

  private drop(why: string): void {
    const was = this.held;
    this.held = false;
    this.client = undefined;
    if (was) this.lost?.(why);
  }

  private async reset(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.held = false;
    await c?.end().catch(() => undefined);
  }

  /** Release the lock and close the connection (a clean shutdown hands over at once). */
  async close(): Promise<void> {
    const c = this.client;
    this.lost = undefined;
    this.client = undefined;
    if (c && this.held) await c.query("SELECT pg_advisory_unlock(hashtext($1 || ':' || current_schema()))", [LOCK]).catch(() => undefined);
    this.held = false;
    await c?.end().catch(() => undefined);
  }
}

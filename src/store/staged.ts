/**
 * Staged home shelves ({@link StagedShelf}) kept in one process: what the in-memory test store
 * holds, and where a home page with no store keeps its deferred impressions. Same behaviour as the
 * `staged_shelves` table of the SQL backends (the store contract runs it through `MemoryStore`).
 */
import type { StagedShelf, Store } from './store.ts';

/** The store's four staged-shelf methods: what a home page needs to defer impressions until seen. */
export type ShelfStaging = Pick<Store, 'stageShelves' | 'stagedShelves' | 'unstageShelves' | 'expireStagedShelves'>;

export class InProcessStaging implements ShelfStaging {
  /** By request id (insertion order: oldest first), then shelf. */
  private readonly byRequest = new Map<string, Map<string, StagedShelf>>();

  /** `maxRequests`: requests kept at most, the oldest dropped first (default: no bound). */
  constructor(private readonly maxRequests = Infinity) {}

  async stageShelves(rows: readonly StagedShelf[]): Promise<void> {
    for (const r of rows) {
      let m = this.byRequest.get(r.requestId);
      if (!m) {
        if (this.byRequest.size >= this.maxRequests) this.byRequest.delete(this.byRequest.keys().next().value!);
        this.byRequest.set(r.requestId, (m = new Map()));
      }
      if (!m.has(r.shelf)) m.set(r.shelf, { ...structuredClone(r), expiresAt: new Date(r.expiresAt).toISOString() });
    }
  }

  async stagedShelves(userId: string, requestId: string, shelves: readonly string[], now: string): Promise<StagedShelf[]> {
    const m = this.byRequest.get(requestId);
    const t = Date.parse(now);
    const out: StagedShelf[] = [];
    for (const id of new Set(shelves)) {
      const s = m?.get(id);
      if (s && s.userId === userId && Date.parse(s.expiresAt) > t) out.push(structuredClone(s));
    }
    return out;
  }

  async unstageShelves(requestId: string, shelves: readonly string[]): Promise<string[]> {
    const m = this.byRequest.get(requestId);
    const out = [...new Set(shelves)].filter((id) => m?.delete(id));
    if (m?.size === 0) this.byRequest.delete(requestId);
    return out;
  }

  async expireStagedShelves(now: string): Promise<number> {
    const t = Date.parse(now);
    let n = 0;
    for (const [req, m] of this.byRequest) {
      for (const [id, s] of m) if (Date.parse(s.expiresAt) <= t && m.delete(id)) n++;
      if (m.size === 0) this.byRequest.delete(req);
    }
    return n;
  }
}

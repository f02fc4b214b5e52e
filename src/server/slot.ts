/**
 * The serving state a server answers from, swapped as a whole: each request takes the state of the
 * moment it arrives (app.ts) and finishes on it, so a swap never mixes two runs in one answer and
 * never cuts a request short. A new run is loaded fully beside the old one ({@link ServingSlot.load})
 * and swapped in with one assignment; the old one's home page is flushed and closed after.
 *
 * Listens accepted while a run loads are observed by the old live model and kept; the new live
 * model observes them after it is loaded (the load folds in what the store held when it read it,
 * so a listen committed during the read can count twice in that listener's fold-in until the next
 * run, as in the in-process retrain).
 */
import type { Listen } from '../domain/schemas.ts';
import type { ServingState } from '../serving/index.ts';
import { log } from '../log.ts';

type Observed = Pick<Listen, 'user_id' | 'track_id' | 'ms_played' | 'skipped'>;

export class ServingSlot {
  /** The state new requests get. */
  current: ServingState;
  /** Swaps since start, and how long the last load + swap took (s). */
  swaps = 0;
  lastSwapSeconds = 0;
  /** When the run served was published (ms since epoch), when known. */
  publishedAt: number | undefined;
  /** The run being loaded beside the current one, if any. */
  loading: string | undefined;
  /** Why the last load failed (cleared by a successful one). */
  failure: string | undefined;
  private late: Observed[] | undefined;

  constructor(state: ServingState) {
    this.current = state;
  }

  /** The run the current state serves (null: the popularity fallback or nothing). */
  get runId(): string | null {
    return this.current.recs?.info.runId ?? null;
  }

  /** Let the live model see accepted listens (and keep them for a run being loaded). */
  observe(rows: readonly Observed[]): void {
    if (rows.length === 0) return;
    this.current.recs?.observe(rows);
    this.late?.push(...rows);
  }

  /**
   * Load run `runId` with `load` beside the current state, then swap it in. Throws (the current
   * state keeps serving) when the load fails; a load already running for this run is not repeated.
   */
  async load(runId: string, load: () => Promise<ServingState>, publishedAt?: number): Promise<void> {
    if (this.loading) return;
    const t0 = performance.now();
    this.loading = runId;
    this.late = [];
    try {
      const next = await load();
      if (next.recs?.info.runId !== runId) throw new Error(`loading run ${runId} gave ${next.recs?.info.runId ?? 'no run'}`);
      next.recs?.observe(this.late);
      this.swap(next, publishedAt);
      this.lastSwapSeconds = (performance.now() - t0) / 1000;
      this.failure = undefined;
      log('serve').info({ run: runId, seconds: this.lastSwapSeconds, late_listens: this.late.length }, 'serving the newly published run');
    } catch (e) {
      this.failure = `run ${runId}: ${(e as Error).message}`;
      throw e;
    } finally {
      this.loading = undefined;
      this.late = undefined;
    }
  }

  /** Put `next` in place at once; the old state's home page is flushed and closed in the background. */
  swap(next: ServingState, publishedAt?: number): void {
    const old = this.current;
    this.current = next;
    this.publishedAt = publishedAt;
    this.swaps++;
    next.warmUp?.();
    if (old.home && old.home !== next.home) void (old.home.close ?? old.home.flush)?.call(old.home).catch((e: Error) => log('serve').warn({ err: e.message }, 'could not flush the old run\'s impressions'));
  }
}

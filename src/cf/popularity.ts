/**
 * The popularity baseline: every user gets the items most users have, minus what they heard.
 * It has no notion of similarity: `similarItems` returns the most popular other items and
 * `similarUsers` the most active other users, so a caller never gets an error, only a baseline.
 */
import type { Csr } from '../signals/index.ts';
import { ScoringRecommender } from './base.ts';
import { readArtifact, writeArtifact } from './artifact.ts';

const KIND = 'popularity';
const VERSION = 1;

export class PopularityRecommender extends ScoringRecommender {
  readonly name = 'popularity';
  /** Users with a positive value per item (length items). */
  private counts: Float32Array = new Float32Array(0);
  /** Items per user in the training matrix (length users). */
  private activity: Float32Array = new Float32Array(0);

  protected async fitModel(userItems: Csr): Promise<void> {
    this.counts = new Float32Array(userItems.cols);
    this.activity = new Float32Array(userItems.rows);
    for (let r = 0; r < userItems.rows; r++) {
      for (let p = userItems.indptr[r]; p < userItems.indptr[r + 1]; p++) {
        if (userItems.data[p] > 0) {
          this.counts[userItems.indices[p]]++;
          this.activity[r]++;
        }
      }
    }
  }

  protected scoreUser(_user: number, _userItems: Csr, out: Float32Array): void {
    out.set(this.counts);
  }

  protected scoreItem(_item: number, out: Float32Array): void {
    out.set(this.counts);
  }

  protected scoreUserToUsers(_user: number, out: Float32Array): void {
    out.set(this.activity);
  }

  async save(path: string, meta: { runId: string }): Promise<void> {
    await writeArtifact(path, { kind: KIND, runId: meta.runId, metric: 'popularity', params: { version: VERSION, users: this.users, items: this.items } }, [
      { name: 'counts', data: this.counts, shape: [this.items] },
      { name: 'activity', data: this.activity, shape: [this.users] },
    ]);
  }

  /** Read a model written by `save`; throws `invalid_input` naming a wrong kind or version. */
  static async load(path: string): Promise<PopularityRecommender> {
    const a = await readArtifact(path, { kind: KIND, params: { version: VERSION }, shapes: { counts: [-1], activity: [-1] } });
    const m = new PopularityRecommender();
    m.counts = a.arrays.counts as Float32Array;
    m.activity = a.arrays.activity as Float32Array;
    m.items = m.counts.length;
    m.users = m.activity.length;
    return m;
  }
}

/**
 * The ranking stage as the product reads it: `<run>/rank/stage.json` (the learned ranker, its
 * sources, tail dial and the validation that chose it) and `<run>/rank/knn.bin` (the item-kNN
 * source), loaded over the run's CF model into a {@link RankedRecommender}. That model answers
 * `recommend` with the ranked list (candidates of every source, scored by the ranker) and says
 * which source proposed each track ({@link RankedRecommender.recommendExplained}), so Discover
 * Weekly and the API can give the reason; its factor space, fold-in and similar items stay the
 * CF model's. A stage that fell back (`use: false`) loads as the CF model itself.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Csr } from '../signals/index.ts';
import { canFoldIn, isFactorized, ItemKnnRecommender, undialed, type Factorized, type FoldIn, type Ranked, type Recommender, type RecommendOptions } from '../cf/index.ts';
import { DeepcutError } from '../errors.ts';
import { LearnedRanker } from './ranker.ts';
import { featureNames, profileArtists, profileTracks, rankedOrder, rowNorms, userCandidates, userRowOf, worldSources, WorldTables, type RankVectors, type RankWorld, type SourceName, type StageSource, type TailDial, type UserRow } from './stage.ts';
import type { StageReport } from './train.ts';

const KIND = 'deepcut-rank-stage';
const VERSION = 1;
export const STAGE_FILE = 'stage.json';
export const KNN_FILE = 'knn.bin';

/** `<run>/rank/stage.json`. */
export interface StageFile {
  kind: typeof KIND;
  version: typeof VERSION;
  runId: string;
  /** Each source's proposals per listener, and the trend window (days). */
  depth: number;
  recentDays: number;
  report: StageReport;
  ranker: ReturnType<LearnedRanker['toJSON']>;
}

/** Write the stage's files into `dir` (the ranker's JSON, and item-kNN when it is a source). */
export async function saveStage(dir: string, f: Omit<StageFile, 'kind' | 'version'>, knn: Recommender | undefined): Promise<void> {
  if (knn) await knn.save(join(dir, KNN_FILE), { runId: f.runId });
  await writeFile(join(dir, STAGE_FILE), JSON.stringify({ kind: KIND, version: VERSION, ...f }, null, 1) + '\n');
}

/** Read `<dir>/stage.json`; undefined when the run has none. Names a wrong kind, version or run. */
export async function readStage(dir: string, runId?: string): Promise<StageFile | undefined> {
  const path = join(dir, STAGE_FILE);
  if (!existsSync(path)) return undefined;
  const f = JSON.parse(await readFile(path, 'utf8')) as Partial<StageFile>;
  if (f.kind !== KIND || f.version !== VERSION) throw new DeepcutError('invalid_input', `${path}: not a deepcut rank stage file (kind ${String(f.kind)}, version ${String(f.version)}; expected ${KIND} ${VERSION})`);
  if (runId !== undefined && f.runId !== runId) throw new DeepcutError('invalid_input', `${path}: made by run ${String(f.runId)}, not ${runId}`);
  return f as StageFile;
}

/** Which source proposed a ranked track, and what in the listener's history it relates to. */
export interface Origin {
  source: SourceName;
  /** Track row of the listener's play nearest it (cf, knn: in the factor space; audio: by sound). */
  track?: number;
  /** Artist row it relates to (artist: its own artist the listener plays; text: the listener's artist described most alike). */
  artist?: number;
}

/** Models that say where each recommended track came from (the ranked model). */
export interface ExplainsRanking {
  recommendExplained(user: number, userItems: Csr, k: number, opts?: RecommendOptions): Ranked & { origins: Origin[] };
  /**
   * {@link recommendExplained} with each track's proposing source at once and its {@link Origin}
   * worked out only when asked (`origin(j)`, the j-th track's; the same answer): a playlist keeps a
   * few of the tracks it is offered, and finding an origin's nearest play costs a scan of them.
   */
  recommendSourced(user: number, userItems: Csr, k: number, opts?: RecommendOptions): Ranked & { sources: SourceName[]; origin(j: number): Origin };
}

export function explainsRanking(m: Recommender): m is Recommender & ExplainsRanking {
  return typeof (m as Partial<ExplainsRanking>).recommendExplained === 'function';
}

/** The ranked model over a CF model; see the module comment. */
export class RankedRecommender implements Recommender, ExplainsRanking {
  readonly name: string;
  readonly ranksByFactors = false;
  /** The `cf` source's model: the CF model's list before its long-tail dial ({@link undialed}), as the ranker was trained on. */
  readonly undialedCf: Recommender;
  private live: Csr;
  private readonly sources: StageSource[];
  private cfTop: ((user: number, k: number, exclude: ReadonlySet<number>) => Ranked) | undefined;
  /** Feature columns the ranker reads; the others are not computed. */
  private readonly used: Uint8Array;
  private readonly dim: number;
  /**
   * The last listener's whole ranking, kept until the current synchronous job ends (a microtask
   * clears it): Discover Weekly asks 60 deep, then deeper when its caps leave it short, for the
   * same listener and history at once. Any later call ranks afresh.
   */
  private last: { user: number; m: Csr; filterHeard: boolean; filter: readonly number[]; items: Int32Array; scores: Float32Array; origin: SourceName[]; row: UserRow; origins: (Origin | undefined)[] } | undefined;
  /** Unit-norm lookups of the spaces origins are found in, built once. */
  private readonly spaces = new Map<string, { v: RankVectors; norms: Float64Array }>();

  constructor(
    readonly base: Recommender,
    private readonly tables: WorldTables,
    private readonly ranker: LearnedRanker,
    readonly dial: TailDial,
    private readonly depth: number,
    knn: Recommender | undefined,
  ) {
    this.name = `ranked (${base.name})`;
    this.live = tables.w.matrix;
    this.used = ranker.usedFeatures();
    this.dim = featureNames(ranker.sources).length;
    this.undialedCf = undialed(base);
    const all = worldSources(tables, { cf: this.undialedCf, knn }, () => this.live);
    const byName = new Map(all.map((s) => [s.name as string, s]));
    this.sources = ranker.sources.map((n) => {
      const s = byName.get(n);
      if (!s) throw new DeepcutError('invalid_input', `rank stage: the ranker was trained with source ${n}, which this run does not have`);
      return n === 'cf' ? { name: 'cf', top: (u, row, heard, k) => (this.cfTop ? this.cfTop(u, k, heard) : s.top(u, row, heard, k)) } : s;
    });
  }

  /**
   * Answer the `cf` source's top-k from an index over the CF model's factors instead of its scan
   * (the playlists step's row search; the same lists up to float rounding).
   */
  useCfSearch(top: (user: number, k: number, exclude: ReadonlySet<number>) => Ranked): void {
    this.cfTop = top;
  }

  async fit(): Promise<void> {
    throw new DeepcutError('invalid_input', `${this.name}: the ranked model is trained by the pipeline's rank step, not fitted directly`);
  }

  recommend(user: number, userItems: Csr, k: number, opts: RecommendOptions = {}): Ranked {
    const r = this.recommendExplained(user, userItems, k, opts);
    return { items: r.items, scores: r.scores };
  }

  recommendExplained(user: number, userItems: Csr, k: number, opts: RecommendOptions = {}): Ranked & { origins: Origin[] } {
    const r = this.recommendSourced(user, userItems, k, opts);
    return { items: r.items, scores: r.scores, origins: Array.from(r.sources, (_, j) => r.origin(j)) };
  }

  recommendSourced(user: number, userItems: Csr, k: number, opts: RecommendOptions = {}): Ranked & { sources: SourceName[]; origin(j: number): Origin } {
    const filterHeard = opts.filterHeard !== false;
    const filter = opts.filterItems ?? [];
    let r = this.last;
    if (!(r && r.user === user && r.m === userItems && r.filterHeard === filterHeard && sameItems(r.filter, filter))) {
      this.live = userItems;
      const row = this.rowOf(user, userItems);
      const heard = new Set<number>(filterHeard ? row.items : []);
      for (const i of filter) heard.add(i);
      const c = userCandidates(this.tables, this.sources, user, row, heard, this.depth, this.used, true);
      const p = this.ranker.predict({ users: Int32Array.of(user), offsets: Int32Array.of(0, c.items.length), items: c.items, x: c.x, dim: this.dim });
      const ranked = rankedOrder(this.tables, c.items, p, this.dial);
      // each ranked track's candidate row, through the tables' scratch per track row (−1 again after)
      const at = this.tables.slots();
      let origin: SourceName[];
      try {
        for (let j = 0; j < c.items.length; j++) at[c.items[j]] = j;
        origin = Array.from(ranked.items, (i) => this.sources[c.origin[at[i]]].name);
      } finally {
        for (let j = 0; j < c.items.length; j++) at[c.items[j]] = -1;
      }
      if (!this.last) queueMicrotask(() => (this.last = undefined));
      r = this.last = { user, m: userItems, filterHeard, filter: [...filter], items: ranked.items, scores: ranked.scores, origin, row, origins: [] };
    }
    const n = Math.min(k, r.items.length);
    const got = r;
    const origin = (j: number): Origin => {
      if (!(j >= 0 && j < n)) throw new DeepcutError('invalid_input', `ranked: no track ${j} in a list of ${n}`);
      return (got.origins[j] ??= this.origin(got.origin[j], got.items[j], got.row));
    };
    return { items: r.items.slice(0, n), scores: r.scores.slice(0, n), sources: r.origin.slice(0, n), origin };
  }

  /** The listener's row of `m` with each pair's last time: the run's for pairs it knew, else the run's "now". */
  private rowOf(user: number, m: Csr): UserRow {
    const w = this.tables.w;
    const runRow = userRowOf(w, user);
    if (m === w.matrix) return runRow;
    const a = user < m.rows ? m.indptr[user] : 0;
    const b = user < m.rows ? m.indptr[user + 1] : 0;
    const items = m.indices.subarray(a, b);
    const known = new Map(Array.from(runRow.items, (i, j) => [i, runRow.lastAt[j]]));
    return { items, conf: m.data.subarray(a, b), lastAt: Float64Array.from(items, (i) => known.get(i) ?? w.now) };
  }

  private origin(source: SourceName, item: number, row: UserRow): Origin {
    const w = this.tables.w;
    switch (source) {
      case 'artist':
        return { source, artist: w.artistOf[item] };
      case 'text': {
        const a = nearest(this.space('text', w.text!), w.artistOf[item], profileArtists(w, row));
        return a >= 0 ? { source, artist: a } : { source };
      }
      case 'audio': {
        const t = nearest(this.space('audio', w.audio!), item, profileTracks(row));
        return t >= 0 ? { source, track: t } : { source };
      }
      case 'cf':
      case 'knn': {
        if (!isFactorized(this.base)) return { source };
        const t = nearest(this.space('factors', { dim: this.base.factors, data: this.base.itemFactors() }), item, profileTracks(row));
        return t >= 0 ? { source, track: t } : { source };
      }
      case 'recent':
        return { source };
    }
  }

  /** Vectors `v` with their row norms, computed the first time (the CF factors do not change while serving: fold-in moves users only). */
  private space(name: string, v: RankVectors): { v: RankVectors; norms: Float64Array } {
    let s = this.spaces.get(name);
    const same = s && s.v.dim === v.dim && s.v.data.buffer === v.data.buffer && s.v.data.byteOffset === v.data.byteOffset && s.v.data.length === v.data.length;
    if (!s || !same) this.spaces.set(name, (s = { v, norms: rowNorms(v) }));
    return s;
  }

  similarItems(item: number, k: number): Ranked {
    return this.base.similarItems(item, k);
  }
  similarUsers(user: number, k: number): Ranked {
    return this.base.similarUsers(user, k);
  }
  async save(): Promise<void> {
    throw new DeepcutError('invalid_input', `${this.name}: the rank step saves the stage (rank/${STAGE_FILE}); the CF model is saved by the cf step`);
  }
  async close(): Promise<void> {
    await (this.base as Partial<{ close(): Promise<void> }>).close?.();
  }
}

/** The ranked model over a factorized CF model with fold-in (ALS, the production model): factors and fold-in are the CF model's. */
export class FactorRankedRecommender extends RankedRecommender implements Factorized, FoldIn {
  constructor(
    readonly cf: Recommender & Factorized & FoldIn,
    ...rest: ConstructorParameters<typeof RankedRecommender> extends [Recommender, ...infer R] ? R : never
  ) {
    super(cf, ...rest);
  }
  get factors(): number {
    return this.cf.factors;
  }
  itemFactors(): Float32Array {
    return this.cf.itemFactors();
  }
  userFactors(): Float32Array {
    return this.cf.userFactors();
  }
  foldIn(user: number, items: Int32Array, confidence: Float32Array): void {
    this.cf.foldIn(user, items, confidence);
  }
}

/** Whether two filter lists hold the same items in the same order. */
function sameItems(a: readonly number[], b: Iterable<number>): boolean {
  let j = 0;
  for (const x of b) if (j >= a.length || a[j++] !== x) return false;
  return j === a.length;
}

/** The row of `rows` whose vector is closest (cosine) to row `r` of `s.v` (row norms `s.norms`), or -1. */
function nearest(s: { v: RankVectors; norms: Float64Array }, r: number, rows: readonly number[]): number {
  const { v, norms } = s;
  const dim = v.dim;
  if (r < 0 || (r + 1) * dim > v.data.length) return -1;
  const nr = norms[r];
  let best = -1;
  let bestS = 0;
  for (const q of rows) {
    if (q < 0 || q === r || (q + 1) * dim > v.data.length) continue;
    let d = 0;
    for (let i = 0; i < dim; i++) d += v.data[r * dim + i] * v.data[q * dim + i];
    const den = nr * norms[q];
    const sim = den > 0 ? d / den : 0;
    if (sim > bestS) (bestS = sim), (best = q);
  }
  return best;
}

/**
 * The run's recommender: the ranked model when `rankDir` holds a stage the validation chose
 * (`use: true`), else `base` itself (no stage, or the stage fell back). `world` is the run's world
 * (its matrix, times, catalog rows and content vectors), or a function that builds it: called only
 * when the stage is used, so a run whose ranker fell back (or that has none) pays nothing for it.
 * @example const model = await loadRanked(join(runDir, 'rank'), cfModel, world, { runId })
 */
export async function loadRanked(rankDir: string, base: Recommender, world: RankWorld | (() => Promise<RankWorld>), o: { runId?: string } = {}): Promise<Recommender> {
  const f = await readStage(rankDir, o.runId);
  if (!f || !f.report.use) return base;
  if (typeof world === 'function') world = await world();
  const ranker = LearnedRanker.fromJSON(f.ranker);
  const knnPath = join(rankDir, KNN_FILE);
  const knn = ranker.sources.includes('knn') ? await ItemKnnRecommender.load(knnPath) : undefined;
  const tables = new WorldTables(world, f.recentDays);
  const args = [tables, ranker, f.report.dial, f.depth, knn] as const;
  return isFactorized(base) && canFoldIn(base) ? new FactorRankedRecommender(base, ...args) : new RankedRecommender(base, ...args);
}

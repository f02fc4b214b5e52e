import type { Command } from 'commander';
import { join } from 'node:path';
import { configFrom, globals } from '../context.ts';
import { emit, table } from '../output.ts';
import { openPublished, type PublishedRun } from '../../pipeline/published.ts';
import { artistFactorMeans, loadTextArtifacts, loadTextIndex, type TextArtifacts } from '../../pipeline/text-step.ts';
import { isFactorized } from '../../cf/recommender.ts';
import { cosineTopK } from '../../text/similar.ts';
import { normalizeRows } from '../../text/lsa.ts';
import type { Vectors } from '../../playlists/sources.ts';
import { DeepcutError } from '../../errors.ts';

const bys = ['text', 'cf'] as const;
type By = (typeof bys)[number];

interface SimilarResult {
  run: string;
  kind: 'artist' | 'track';
  id: string;
  name: string;
  by: By;
  similar: { id: string; name: string; score: number; described_as?: string[] }[];
}

function parseK(k: string): number {
  const n = Number(k);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new DeepcutError('invalid_input', `--k must be an integer from 1 to 1000, got "${k}"`, { field: '--k' });
  return n;
}

/** Cosine neighbours of row `row` of `v`, rows unit length (all-zero rows are nobody's neighbours). */
function neighbours(v: Vectors, row: number, k: number) {
  return cosineTopK(v.data, v.dim, v.data.subarray(row * v.dim, (row + 1) * v.dim), k, new Set([row]));
}

/**
 * Artists like `id`. By text: the run's LSA index (cosine) over the artists with documents. By
 * cf: cosine over the artists' CF vectors (mean of their streamed tracks' factors), where an
 * artist without streams takes its vector mapped from text when the run has one.
 */
async function similarArtists(run: PublishedRun, text: TextArtifacts | undefined, id: string, by: By, k: number): Promise<SimilarResult['similar']> {
  const catalog = run.snapshot.catalog;
  const terms = (artist: string) => {
    const r = text?.artists.row(artist) ?? -1;
    return r >= 0 ? text!.descriptors[r].map((d) => d.term) : undefined;
  };
  const nameOf = (artist: string) => catalog.artists[catalog.artistRows.row(artist)]?.name ?? artist;
  if (catalog.artistRows.row(id) < 0 && (text?.artists.row(id) ?? -1) < 0) throw new DeepcutError('unknown_id', `no artist "${id}" in run ${run.runId}`);
  let ids: (r: number) => string;
  let found: { items: Int32Array; scores: Float32Array };
  if (by === 'text') {
    const index = text && (await loadTextIndex(text));
    if (!text?.lsa || !index) throw new DeepcutError('unavailable', `run ${run.runId} has no text embedding: no documents were imported (\`deepcut import jsonl\` with documents.jsonl), then run the pipeline`);
    const r = text.artists.row(id);
    if (r < 0) throw new DeepcutError('unknown_id', `artist "${id}" has no documents in run ${run.runId}; try --by cf`);
    const hit = index.search(text.lsa.data.slice(r * text.lsa.dim, (r + 1) * text.lsa.dim), k + 1);
    const keep = Array.from(hit.items, (_, i) => i).filter((i) => hit.items[i] !== r).slice(0, k);
    found = { items: Int32Array.from(keep, (i) => hit.items[i]), scores: Float32Array.from(keep, (i) => hit.scores[i]) };
    ids = (x) => text.artists.id(x);
  } else {
    if (!isFactorized(run.model)) throw new DeepcutError('unavailable', `similar artists by cf need a factor model; run ${run.runId} has ${run.model.name}`);
    const { vectors, warm } = artistFactorMeans(catalog, { dim: run.model.factors, data: run.model.itemFactors() });
    if (text?.cf && text.cf.dim === vectors.dim) {
      text.cf.warm.forEach((w, r) => {
        const a = catalog.artistRows.row(text.artists.id(r));
        if (!w && a >= 0 && !warm[a]) vectors.data.set(text.cf!.data.subarray(r * vectors.dim, (r + 1) * vectors.dim), a * vectors.dim);
      });
    }
    normalizeRows(vectors.data, vectors.dim);
    const a = catalog.artistRows.row(id);
    if (!vectors.data.subarray(a * vectors.dim, (a + 1) * vectors.dim).some((x) => x !== 0))
      throw new DeepcutError('unknown_id', `artist "${id}" has no streams and no text-mapped vector in run ${run.runId}; try --by text`);
    found = neighbours(vectors, a, k);
    ids = (x) => catalog.artists[x].id;
  }
  return Array.from(found.items, (x, i) => ({ id: ids(x), name: nameOf(ids(x)), score: found.scores[i], described_as: terms(ids(x)) }));
}

/** Tracks like `id`: the CF model's item neighbours. */
function similarTracks(run: PublishedRun, id: string, k: number): SimilarResult['similar'] {
  const catalog = run.snapshot.catalog;
  const t = catalog.trackRows.row(id);
  if (t < 0) throw new DeepcutError('unknown_id', `no track "${id}" in run ${run.runId}`);
  const r = run.model.similarItems(t, k);
  return Array.from(r.items, (x, i) => {
    const tr = catalog.tracks[x];
    return { id: tr.id, name: `${tr.title} — ${tr.artists.map((a) => catalog.artists[a].name).join(', ')}`, score: r.scores[i] };
  });
}

function print(r: SimilarResult): string {
  const rows = r.similar.map((s, i) => [i + 1, s.id, s.name, s.score, s.described_as?.join(', ') ?? '']);
  const cols = ['#', r.kind, 'name', 'score', ...(r.kind === 'artist' ? ['described as'] : [])];
  return `${r.kind === 'artist' ? 'artists' : 'tracks'} like ${r.name} (${r.id}) by ${r.by}, run ${r.run}\n` + table(cols, rows.map((x) => x.slice(0, cols.length)));
}

/** `deepcut similar artist <id> [--by text|cf] [--k N]`, `deepcut similar track <id> [--k N]`: neighbours in the published run. */
export function register(program: Command): void {
  const cmd = program.command('similar').description('similar artists (by text descriptors or CF) and similar tracks (CF) from the published run');
  cmd
    .command('artist <id>')
    .description('artists like this one: by text (LSA of documents about them) or by cf (listening)')
    .option('--by <space>', `text or cf`, 'text')
    .option('--k <n>', 'how many', '10')
    .action(async (id: string, o: { by: string; k: string }, c: Command) => {
      if (!(bys as readonly string[]).includes(o.by)) throw new DeepcutError('invalid_input', `--by must be one of ${bys.join(', ')}, got "${o.by}"`, { field: '--by' });
      const k = parseK(o.k);
      const config = configFrom(c);
      const run = await openPublished(config.home, { threads: config.cf.threads });
      try {
        const textDir = join(run.dir, 'text');
        // by cf, text only adds descriptors and cold-start vectors: a run without them still answers
        const text = o.by === 'text' ? await loadTextArtifacts(textDir) : await loadTextArtifacts(textDir).catch((e: unknown) => (e instanceof DeepcutError && e.code === 'not_found' ? undefined : Promise.reject(e)));
        const a = run.snapshot.catalog.artistRows.row(id);
        const result: SimilarResult = { run: run.runId, kind: 'artist', id, name: a >= 0 ? run.snapshot.catalog.artists[a].name : id, by: o.by as By, similar: await similarArtists(run, text, id, o.by as By, k) };
        emit(globals(c), result, print);
      } finally {
        await run.close();
      }
    });
  cmd
    .command('track <id>')
    .description('tracks like this one, by cf')
    .option('--k <n>', 'how many', '10')
    .action(async (id: string, o: { k: string }, c: Command) => {
      const k = parseK(o.k);
      const config = configFrom(c);
      const run = await openPublished(config.home, { threads: config.cf.threads });
      try {
        const t = run.snapshot.catalog.trackRows.row(id);
        const result: SimilarResult = { run: run.runId, kind: 'track', id, name: t >= 0 ? run.snapshot.catalog.tracks[t].title : id, by: 'cf', similar: similarTracks(run, id, k) };
        emit(globals(c), result, print);
      } finally {
        await run.close();
      }
    });
}

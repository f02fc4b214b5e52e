import type { Command } from 'commander';
import { join } from 'node:path';
import { emit, table } from '../output.ts';
import type { PublishedRun } from '../../pipeline/published.ts';
import type { TextArtifacts } from '../../pipeline/steps.ts';
import type { Neighbour, Product } from '../../playlists/index.ts';
import { DeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({
  ...(await import('../context.ts')),
  ...(await import('../../pipeline/published.ts')),
  ...(await import('../../pipeline/steps.ts')),
  ...(await import('../../playlists/index.ts')),
});
type Loaded = Awaited<ReturnType<typeof load>>;

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

/**
 * Artists like `id` (the one definition in playlists/similar.ts). By text: the run's LSA index
 * (cosine) over the artists with documents. By cf: cosine over the artists' CF vectors, as
 * `GET /v1/artists/:id/similar` and Release Radar's similar-artist tier.
 */
async function similarArtists({ loadTextIndex, similarArtistsByText }: Loaded, run: PublishedRun, product: Product, text: TextArtifacts | undefined, id: string, by: By, k: number): Promise<SimilarResult['similar']> {
  const catalog = run.snapshot.catalog;
  const terms = (artist: string) => {
    const r = text?.artists.row(artist) ?? -1;
    return r >= 0 ? text!.descriptors[r].map((d) => d.term) : undefined;
  };
  const nameOf = (artist: string) => catalog.artists[catalog.artistRows.row(artist)]?.name ?? artist;
  if (catalog.artistRows.row(id) < 0 && (text?.artists.row(id) ?? -1) < 0) throw new DeepcutError('unknown_id', `no artist "${id}" in run ${run.runId}`);
  let ids: (r: number) => string;
  let found: Neighbour[];
  if (by === 'text') {
    const index = text && (await loadTextIndex(text));
    if (!text?.lsa || !index) throw new DeepcutError('unavailable', `run ${run.runId} has no text embedding: no documents were imported (\`deepcut import jsonl\` with documents.jsonl), then run the pipeline`);
    const r = text.artists.row(id);
    if (r < 0) throw new DeepcutError('unknown_id', `artist "${id}" has no documents in run ${run.runId}; try --by cf`);
    const lsa = text.lsa;
    found = similarArtistsByText(
      {
        row: (a) => text.artists.row(a),
        id: (x) => text.artists.id(x),
        search: (x, n) => {
          const hit = index.search(lsa.data.slice(x * lsa.dim, (x + 1) * lsa.dim), n);
          return Array.from(hit.items, (row, i) => ({ row, score: hit.scores[i] }));
        },
      },
      r,
      k,
    );
    ids = (x) => text.artists.id(x);
  } else {
    const r = product.similarArtists(catalog.artistRows.row(id), k);
    if (!r) throw new DeepcutError('unknown_id', `artist "${id}" has no tracks the model knows in run ${run.runId}; try --by text`);
    found = r;
    ids = (x) => catalog.artists[x].id;
  }
  return found.map((n) => ({ id: ids(n.row), name: nameOf(ids(n.row)), score: n.score, described_as: terms(ids(n.row)) }));
}

/** Tracks like `id`, as `GET /v1/tracks/:id/similar`: the model's item neighbours. */
function similarTracks(run: PublishedRun, product: Product, id: string, k: number): SimilarResult['similar'] {
  const catalog = run.snapshot.catalog;
  const t = catalog.trackRows.row(id);
  if (t < 0) throw new DeepcutError('unknown_id', `no track "${id}" in run ${run.runId}`);
  return product.similarTracks(t, k).map(({ row, score }) => {
    const tr = catalog.tracks[row];
    return { id: tr.id, name: `${tr.title} — ${tr.artists.map((a) => catalog.artists[a].name).join(', ')}`, score };
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
      const lib = await load();
      const { configFrom, globals, openPublished, loadTextArtifacts, productOfRun } = lib;
      const config = configFrom(c);
      const run = await openPublished(config, { threads: config.cf.threads });
      try {
        const textDir = join(run.dir, 'text');
        // by cf, text only adds descriptors: a run without them still answers
        const text = o.by === 'text' ? await loadTextArtifacts(textDir) : await loadTextArtifacts(textDir).catch((e: unknown) => (e instanceof DeepcutError && e.code === 'not_found' ? undefined : Promise.reject(e)));
        const a = run.snapshot.catalog.artistRows.row(id);
        const product = await productOfRun(run, config.cf.seed);
        const result: SimilarResult = { run: run.runId, kind: 'artist', id, name: a >= 0 ? run.snapshot.catalog.artists[a].name : id, by: o.by as By, similar: await similarArtists(lib, run, product, text, id, o.by as By, k) };
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
      const { configFrom, globals, openPublished, productOfRun } = await load();
      const config = configFrom(c);
      const run = await openPublished(config, { threads: config.cf.threads });
      try {
        const t = run.snapshot.catalog.trackRows.row(id);
        const product = await productOfRun(run, config.cf.seed);
        const result: SimilarResult = { run: run.runId, kind: 'track', id, name: t >= 0 ? run.snapshot.catalog.tracks[t].title : id, by: 'cf', similar: similarTracks(run, product, id, k) };
        emit(globals(c), result, print);
      } finally {
        await run.close();
      }
    });
}

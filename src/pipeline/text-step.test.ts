/**
 * The text step on a small generated world (plus one artist with documents and no listens), on a
 * world without documents, and its artifacts' loader; the `text` candidate source wired into the
 * playlists step the way steps.ts wires it.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, cpSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWorld } from '../generate/index.ts';
import { readJsonl } from '../generate/index.ts';
import { importPath } from '../ingest/index.ts';
import { openStore } from '../store/index.ts';
import { defaultConfig } from '../config/config.ts';
import { runPipeline, type Step, type RunManifest } from './runner.ts';
import { validateStep, signalsStep, cfStep, loadCfModel } from './steps.ts';
import { runSnapshot } from './persist.ts';
import { makePlaylists } from './playlists-step.ts';
import { FixedClock } from '../core/clock.ts';
import { artistDocuments, loadTextArtifacts, loadTextIndex, textPlaylistInputs, textStep, type TextArtifacts } from './text-step.ts';
import { cosineTopK } from '../text/index.ts';
import type { Document } from '../domain/schemas.ts';
import type { CatalogView, Playlist } from '../playlists/index.ts';
import { IdMap, type ArtistId, type TrackId } from '../domain/ids.ts';
import { DeepcutError } from '../errors.ts';

const root = mkdtempSync(join(tmpdir(), 'dc-text-'));
const world = join(root, 'world');
const NOW = '2026-11-23T06:00:00Z';
const COLD = 'cold-artist';

/** The playlists step with the text source, as steps.ts is to wire it. */
const playlistsWithText: Step = {
  name: 'playlists',
  after: ['cf', 'text'],
  async run(ctx) {
    const s = await runSnapshot(ctx);
    const model = await loadCfModel(ctx.dirOf('cf'), s, ctx.config.cf.threads);
    const r = await makePlaylists(ctx, s, model, await textPlaylistInputs(ctx.dirOf('text'), s, model));
    return { metrics: r.metrics };
  },
};
const steps = [validateStep, signalsStep, cfStep, textStep, playlistsWithText];

async function run(home: string): Promise<RunManifest> {
  const store = await openStore({ home });
  try {
    return await runPipeline(steps, { config: { ...defaultConfig(), home }, store, clock: new FixedClock(NOW) });
  } finally {
    await store.close();
  }
}

let warmDonor: Document;
let withText: RunManifest;
let texts: TextArtifacts;

before(async () => {
  await generateWorld({ size: 'small', seed: 11, out: world, audioClips: 0 });
  const home = join(root, 'with-text');
  const store = await openStore({ home });
  try {
    await importPath(store, 'jsonl', world, {});
    // an artist nobody has played, described by a copy of every text about an existing artist
    const docs = readJsonl<Document>(join(world, 'documents.jsonl'));
    warmDonor = docs.find((d) => d.source === 'tags' && d.subject_kind === 'artist')!;
    const donorTracks = new Set(readJsonl<{ track_id: string; artist_ids: string[] }>(join(world, 'tracks.jsonl')).filter((t) => t.artist_ids[0] === warmDonor.subject_id).map((t) => t.track_id));
    const copies = docs.filter((d) => d.subject_id === warmDonor.subject_id || donorTracks.has(d.subject_id));
    await store.put('artists', [{ artist_id: COLD, name: 'Cold Artist', genres: [] }]);
    await store.put('tracks', [1, 2, 3].map((i) => ({ track_id: `cold-track-${i}`, title: `Cold ${i}`, artist_ids: [COLD], duration_ms: 200_000, release_date: '2026-01-01' })));
    await store.put('documents', copies.map((d, i) => ({ ...d, document_id: `cold-doc-${i}`, subject_kind: 'artist' as const, subject_id: COLD })));
  } finally {
    await store.close();
  }
  withText = await run(home);
  texts = await loadTextArtifacts(join(home, 'runs', withText.runId, 'text'));
});

test('the text step builds descriptors, an LSA embedding and the cold-start map', () => {
  assert.equal(withText.status, 'succeeded');
  const m = withText.steps.text.output!.metrics!;
  assert.ok(m.documents > 0 && m.vocabulary > 0 && m.artists_with_documents > 10, JSON.stringify(m));
  assert.ok(Number.isFinite(m.ridge_validation_r2) && m.ridge_lambda > 0 && m.index_recall_at_10 > 0.9, JSON.stringify(m));
  assert.equal(texts.runId, withText.runId);
  assert.equal(texts.artists.size, m.artists_with_documents);
  assert.equal(texts.lsa!.data.length, texts.artists.size * texts.lsa!.dim);
  const cold = texts.artists.row(COLD);
  assert.ok(cold >= 0);
  assert.equal(texts.cf!.warm[cold], 0);
  assert.equal(texts.cf!.warm[texts.artists.row(warmDonor.subject_id)], 1);
  assert.ok(texts.cf!.data.subarray(cold * texts.cf!.dim, (cold + 1) * texts.cf!.dim).some((x) => x !== 0), 'the cold artist has a mapped vector');
  assert.ok(texts.descriptors[cold].length > 0);
});

test('an artist with the same text as another is its nearest text neighbour, in the index too', async () => {
  const { dim, data } = texts.lsa!;
  const cold = texts.artists.row(COLD);
  const near = cosineTopK(data, dim, data.subarray(cold * dim, (cold + 1) * dim), 1, new Set([cold]));
  assert.equal(texts.artists.id(near.items[0]), warmDonor.subject_id);
  assert.ok(near.scores[0] > 0.999);
  const index = (await loadTextIndex(texts))!;
  assert.equal(index.size, texts.artists.size);
  const hit = index.search(data.slice(cold * dim, (cold + 1) * dim), 2);
  assert.deepEqual(new Set(Array.from(hit.items, (r) => texts.artists.id(r))), new Set([COLD, warmDonor.subject_id]));
});

test('Discover Weekly takes tracks from the text source, unheard, with a described-as reason', () => {
  const home = join(root, 'with-text');
  const lines = readFileSync(join(home, 'runs', withText.runId, 'playlists', 'discover-weekly.jsonl'), 'utf8').trim().split('\n');
  const fromText = lines.flatMap((l) => (JSON.parse(l) as Playlist).tracks.filter((t) => t.source === 'text'));
  assert.ok(fromText.length > 0, 'some Discover Weekly tracks come from the text source');
  for (const t of fromText) assert.match(t.reason, /^(described as: .+|described like .+)$/);
});

test('a store without documents: the step succeeds with 0 documents and adds no source', async () => {
  const bare = join(root, 'world-bare');
  cpSync(world, bare, { recursive: true });
  rmSync(join(bare, 'documents.jsonl'));
  const home = join(root, 'no-text');
  const store = await openStore({ home });
  try {
    await importPath(store, 'jsonl', bare, {});
  } finally {
    await store.close();
  }
  const m = await run(home);
  assert.equal(m.status, 'succeeded');
  assert.deepEqual(m.steps.text.output!.metrics!.documents, 0);
  const dir = join(home, 'runs', m.runId, 'text');
  const t = await loadTextArtifacts(dir);
  assert.equal(t.artists.size, 0);
  assert.equal(t.lsa, undefined);
  const s = { catalog: {} } as never;
  assert.deepEqual(await textPlaylistInputs(dir, s, {} as never), {});
});

test('loading names what is missing or mismatched', async () => {
  const dir = join(root, 'with-text', 'runs', withText.runId, 'text');
  await assert.rejects(loadTextArtifacts(join(root, 'nowhere')), (e: unknown) => e instanceof DeepcutError && e.code === 'not_found' && /no text artifacts in .*: run `deepcut pipeline run`/.test(e.message));
  const copy = join(root, 'text-copy');
  cpSync(dir, copy, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(copy, 'text.json'), 'utf8'));
  writeFileSync(join(copy, 'text.json'), JSON.stringify({ ...manifest, version: 2 }));
  await assert.rejects(loadTextArtifacts(copy), /format version 2, this deepcut reads version 1/);
  writeFileSync(join(copy, 'text.json'), JSON.stringify({ ...manifest, runId: 'another-run' }));
  await assert.rejects(loadTextArtifacts(copy), /run id mismatch: expected "another-run", file has "/);
  writeFileSync(join(copy, 'text.json'), JSON.stringify({ ...manifest, artists: manifest.artists.slice(1) }));
  await assert.rejects(loadTextArtifacts(copy), /shape of embedding mismatch/);
});

test('track documents count for their main artist; unknown subjects are counted, not used', () => {
  const catalog = {
    artists: [{ id: 'a1' as ArtistId, name: 'A1', genres: [] }, { id: 'a2' as ArtistId, name: 'A2', genres: [] }],
    artistRows: new IdMap(['a1', 'a2'] as ArtistId[]),
    trackRows: new IdMap(['t1'] as TrackId[]),
    tracks: [{ id: 't1' as TrackId, title: 'T', artists: [1, 0], album: -1, releaseDate: '2026-01-01', durationMs: 1, plays: 0 }],
  } as unknown as CatalogView;
  const doc = (id: string, kind: 'artist' | 'track', subject: string): Document => ({ document_id: id, subject_kind: kind, subject_id: subject, source: 'x', body: id });
  const r = artistDocuments([doc('d1', 'artist', 'a1'), doc('d2', 'track', 't1'), doc('d3', 'track', 'nope'), doc('d4', 'artist', 'nope')], catalog);
  assert.deepEqual(r.docs.map((d) => [d.subject_id, d.body]), [['a1', 'd1'], ['a2', 'd2']]);
  assert.equal(r.unmatched, 2);
});

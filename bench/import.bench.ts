/**
 * `npm run bench -- import [--rows N]`: JSONL listens imported into DuckDB through the full import
 * path (framing, JSON parse, row checks, statistics, quarantine, batched appender writes). The 1M
 * run gives `rows_per_s`; 1M and 5M each run in their own child process so their peak RSS figures
 * are separate (flat memory = the 5M peak within 20% of the 1M peak).
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './bench.ts';
import { peakRssMb } from './bench.ts';
import { Rng } from '../src/util/rng.ts';
import type { Store } from '../src/store/store.ts';
import { listInMemory } from '../src/store/testing/data.ts';

const USERS = 2_000;
const TRACKS = 20_000;
const ARTISTS = 2_000;

async function writeLines(file: string, n: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += line(i) + '\n';
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

/** Write a catalog and `n` listens (seeded) into `dir`. */
export async function writeWorld(dir: string, n: number, seed = 42): Promise<void> {
  const rng = new Rng(seed);
  await writeLines(join(dir, 'artists.jsonl'), ARTISTS, (i) => JSON.stringify({ artist_id: `a${i}`, name: `Artist ${i}` }));
  await writeLines(join(dir, 'tracks.jsonl'), TRACKS, (i) =>
    JSON.stringify({ track_id: `t${i}`, title: `Track ${i}`, artist_ids: [`a${i % ARTISTS}`], duration_ms: 120_000 + (i % 180) * 1000, release_date: '2020-01-01' }),
  );
  await writeLines(join(dir, 'users.jsonl'), USERS, (i) => JSON.stringify({ user_id: `u${i}` }));
  const t0 = Date.parse('2023-01-01T00:00:00Z');
  const reasons = ['trackdone', 'fwdbtn', 'endplay'];
  await writeLines(join(dir, 'listens.jsonl'), n, (i) =>
    JSON.stringify({
      listen_id: `l${i}`,
      user_id: `u${rng.int(USERS)}`,
      track_id: `t${rng.int(TRACKS)}`,
      started_at: new Date(t0 + i * 1000).toISOString(),
      ms_played: rng.int(200_000),
      reason_end: reasons[rng.int(3)],
      skipped: rng.next() < 0.2,
      platform: rng.next() < 0.5 ? 'ios' : 'android',
    }),
  );
}

/**
 * A store that keeps only ids and meta and writes nothing: measures the import path without the
 * database (framing, parsing, checks, statistics).
 */
function nullStore(): Store {
  const meta = new Map<string, unknown>();
  const ids = new Map<string, Record<string, unknown>[]>();
  const none = async () => {
    throw new Error('not used by the import bench');
  };
  return {
    backend: 'duckdb',
    readOnly: false,
    async put(kind, rows) {
      return this.bulkPut(kind, [rows]);
    },
    async bulkPut(kind, batches) {
      let n = 0;
      for await (const b of batches) {
        n += b.length;
        if (kind !== 'listens') ids.set(kind, [...(ids.get(kind) ?? []), ...(b as unknown as Record<string, unknown>[])]);
      }
      return { inserted: n, duplicates: 0 };
    },
    get: none,
    async list(kind, opts = {}) {
      return listInMemory(kind, (ids.get(kind) ?? []) as never[], opts);
    },
    async count(kind) {
      return ids.get(kind)?.length ?? 0;
    },
    readListens: none,
    readInteractions: none,
    getPublication: none,
    switchPublication: none,
    async quarantine() {},
    async listQuarantine() {
      return [];
    },
    async releaseQuarantine() {
      return 0;
    },
    async putMeta(ns, k, v) {
      meta.set(`${ns}/${k}`, v);
    },
    async getMeta<T>(ns: string, k: string) {
      return meta.get(`${ns}/${k}`) as T | undefined;
    },
    async listMeta() {
      return [];
    },
    async deleteMeta() {
      return false;
    },
    async close() {},
  };
}

/** In a child: generate, import, print one JSON line of figures. */
async function child(n: number, noDb: boolean): Promise<void> {
  const { openStore } = await import('../src/store/open.ts');
  const { importPath } = await import('../src/ingest/import.ts');
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-bench-import-'));
  try {
    await writeWorld(dir, n);
    const store = noDb ? nullStore() : await openStore({ home: join(dir, 'home') });
    for (const f of ['artists', 'tracks', 'users']) await importPath(store, 'jsonl', join(dir, `${f}.jsonl`));
    const rssBefore = peakRssMb();
    const t = performance.now();
    const s = await importPath(store, 'jsonl', join(dir, 'listens.jsonl'));
    const seconds = (performance.now() - t) / 1000;
    const stored = noDb ? s.totals.listens?.imported ?? 0 : await store.count('listens');
    await store.close();
    process.stdout.write(JSON.stringify({ rows: s.totals.listens?.read ?? 0, stored, seconds, peak_rss_mb: peakRssMb(), rss_before_mb: rssBefore }) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(n: number, noDb = false): { rows: number; stored: number; seconds: number; peak_rss_mb: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(n), ...(noDb ? ['--no-db'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`import bench child (${n} rows) failed with status ${r.status}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const bench: Bench = {
  name: 'import',
  description: 'JSONL listens → DuckDB through the full import path (checks, statistics, batched writes); 1M and 5M rows in separate processes',
  async run(args) {
    const i = args.indexOf('--rows');
    const big = i >= 0 ? Number(args[i + 1]) : 5_000_000;
    const one = runChild(1_000_000);
    const five = runChild(big);
    const bare = runChild(1_000_000, true);
    return {
      figures: {
        rows_per_s: one.rows / one.seconds,
        import_1m_s: one.seconds,
        peak_rss_mb_1m: one.peak_rss_mb,
        [`rows_per_s_${big / 1e6}m`]: five.rows / five.seconds,
        [`peak_rss_mb_${big / 1e6}m`]: five.peak_rss_mb,
        rss_growth_1m_to_big: five.peak_rss_mb / one.peak_rss_mb - 1,
        rows_per_s_without_db: bare.rows / bare.seconds,
      },
      targets: { rows_per_s: '>= 300000', rss_growth_1m_to_big: '<= 0.2' },
      notes: [
        'rows_per_s_without_db: the same 1M import into a store that writes nothing (framing, JSON parse, checks, statistics only), to separate ingest from database time',
        `${one.stored.toLocaleString('en-US')} and ${five.stored.toLocaleString('en-US')} listens stored; catalog ${ARTISTS} artists, ${TRACKS} tracks, ${USERS} users imported first`,
      ],
    };
  },
};
export default bench;

if (process.argv.includes('--child')) await child(Number(process.argv[process.argv.indexOf('--child') + 1]), process.argv.includes('--no-db'));

/**
 * Statistics of the real data sets: users, items, interactions, density, and how concentrated
 * popularity is (share of interactions on the top 1% of items, Gini coefficient of item counts).
 */
import { createReadStream, existsSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { EvalSuite } from '../suite.ts';

interface Stats {
  users: number;
  items: number;
  interactions: number;
  density: number;
  top1pct_share: number;
  item_gini: number;
}

/** Read a delimited file line by line (gzip when the name ends in .gz) and count user/item pairs. */
async function pairStats(file: string, sep: string | RegExp, userCol: number, itemCol: number, skipHeader: boolean, keep?: (cols: string[]) => boolean): Promise<Stats> {
  const input = createReadStream(file);
  const rl = createInterface({ input: file.endsWith('.gz') ? input.pipe(createGunzip()) : input, crlfDelay: Infinity });
  const users = new Set<string>();
  const itemCounts = new Map<string, number>();
  let n = 0;
  let first = true;
  for await (const line of rl) {
    if (first && skipHeader) {
      first = false;
      continue;
    }
    first = false;
    if (!line) continue;
    const cols = line.split(sep);
    if (keep && !keep(cols)) continue;
    users.add(cols[userCol]);
    itemCounts.set(cols[itemCol], (itemCounts.get(cols[itemCol]) ?? 0) + 1);
    n++;
  }
  const counts = [...itemCounts.values()].sort((a, b) => a - b);
  const top = counts.slice(counts.length - Math.max(1, Math.round(counts.length / 100))).reduce((a, b) => a + b, 0);
  let cum = 0;
  let weighted = 0;
  counts.forEach((c, i) => {
    cum += c;
    weighted += (i + 1) * c;
  });
  const k = counts.length;
  const gini = k > 0 ? (2 * weighted) / (k * cum) - (k + 1) / k : 0;
  return { users: users.size, items: k, interactions: n, density: n / (users.size * k), top1pct_share: top / n, item_gini: gini };
}

export const datasets: EvalSuite = {
  name: 'datasets',
  description: 'size, density and popularity concentration of each real data set',
  needs: [],
  async run(ctx) {
    const specs: [string, string, () => Promise<Stats>][] = [
      ['hetrec-lastfm-2k', 'hetrec2011-lastfm-2k/user_artists.dat', () => pairStats(join(ctx.dataDir, 'hetrec2011-lastfm-2k/user_artists.dat'), '\t', 0, 1, true)],
      ['movielens-small (rating>=4)', 'movielens-latest-small/ratings.csv', () => pairStats(join(ctx.dataDir, 'movielens-latest-small/ratings.csv'), ',', 0, 1, true, (c) => Number(c[2]) >= 4)],
      ['synthetic-cf-100k train', 'synthetic-cf-100k/train.csv.gz', () => pairStats(join(ctx.dataDir, 'synthetic-cf-100k/train.csv.gz'), ',', 0, 1, false)],
    ];
    const rows: (string | number | null)[][] = [];
    const metrics: Record<string, number> = {};
    const notes: string[] = [];
    for (const [name, rel, f] of specs) {
      if (!existsSync(join(ctx.dataDir, rel))) {
        notes.push(`${name}: ${rel} not found, skipped`);
        continue;
      }
      if (ctx.quick && rel.endsWith('.gz')) continue;
      const s = await f();
      rows.push([name, s.users, s.items, s.interactions, s.density, s.top1pct_share, s.item_gini]);
      const key = name.split(' ')[0].replace(/[^a-z0-9]+/g, '_');
      for (const [k, v] of Object.entries(s)) metrics[`${key}_${k}`] = v;
    }
    return {
      metrics,
      notes,
      tables: [{ title: 'data sets', columns: ['data set', 'users', 'items', 'interactions', 'density', 'top 1% share', 'item Gini'], rows }],
    };
  },
};

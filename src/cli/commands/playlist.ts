import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { configFrom, globals } from '../context.ts';
import { PlaylistArchive } from '../../playlists/archive.ts';
import { emit, table } from '../output.ts';
import { openPublished } from '../../pipeline/published.ts';
import { weekStart } from '../../core/clock.ts';
import { discoverWeekly, releaseRadar, dailyMixes, radio } from '../../playlists/makers.ts';
import { cfSource, popularitySource, nearestByInnerProduct } from '../../playlists/sources.ts';
import { toPlaylist } from '../../pipeline/playlists-step.ts';
import { exportPlaylist, exportFormats } from '../../playlists/export.ts';
import { isFactorized } from '../../cf/recommender.ts';
import type { Playlist } from '../../playlists/types.ts';
import { DeepcutError } from '../../errors.ts';

const kinds = ['discover-weekly', 'release-radar', 'daily-mix', 'radio'] as const;

/**
 * `deepcut playlist <kind> <user or seed> [--date D] [--format F] [--out FILE]`: a user's playlist
 * from the published run (the stored one for that week when it exists), or a radio from a seed
 * track or artist id.
 */
export function register(program: Command): void {
  program
    .command('playlist <kind> <target>')
    .description(`a playlist (${kinds.join('|')}) for a user, or radio for a seed track/artist id, from the published run`)
    .option('--date <date>', 'the day to make it for (YYYY-MM-DD or ISO time; default now)')
    .option('--format <format>', `output format: ${exportFormats.join(', ')}`, 'json')
    .option('--out <file>', 'write the playlist to a file instead of stdout')
    .option('--mix <n>', 'which Daily Mix (1-based)', '1')
    .action(async (kind: string, target: string, o: { date?: string; format: string; out?: string; mix: string }, c: Command) => {
      if (!(kinds as readonly string[]).includes(kind)) throw new DeepcutError('invalid_input', `unknown playlist kind "${kind}"; expected one of ${kinds.join(', ')}`, { field: 'kind' });
      if (!(exportFormats as readonly string[]).includes(o.format)) throw new DeepcutError('invalid_input', `unknown format "${o.format}"; expected one of ${exportFormats.join(', ')}`, { field: '--format' });
      const at = o.date ? new Date(o.date.length === 10 ? `${o.date}T12:00:00Z` : o.date) : new Date();
      if (Number.isNaN(at.getTime())) throw new DeepcutError('invalid_input', `--date "${o.date}" is not a date`, { field: '--date' });
      const config = configFrom(c);
      const run = await openPublished(config.home, { threads: config.cf.threads });
      try {
        const s = run.snapshot;
        const catalog = s.catalog;
        const createdAt = new Date().toISOString();
        const archive = new PlaylistArchive(config.home);
        const p: Playlist = await (async () => {
          if (kind === 'radio') {
            const t = catalog.trackRows.row(target);
            const a = catalog.artistRows.row(target);
            if (t < 0 && a < 0) throw new DeepcutError('not_found', `no track or artist "${target}" in run ${run.runId}`);
            const seeds = t >= 0 ? [t] : catalog.tracksByArtist[a].filter((x) => catalog.tracks[x].plays > 0).slice(0, 5);
            const seedName = t >= 0 ? catalog.tracks[t].title : catalog.artists[a].name;
            const cf = seeds.flatMap((x) => {
              const r = run.model.similarItems(x, 60);
              return Array.from(r.items, (track, i) => ({ track, score: r.scores[i] }));
            }).sort((x, y) => y.score - x.score);
            const c2 = radio(catalog, { seedName, similar: { cf }, exclude: (x) => seeds.includes(x) });
            return toPlaylist('radio', `${seedName} Radio`, undefined, target, c2, catalog, run.runId, createdAt);
          }
          const u = s.users.row(target);
          if (u < 0) throw new DeepcutError('not_found', `no user "${target}" in run ${run.runId}`);
          const user = s.histories[u];
          if (kind === 'discover-weekly') {
            const week = weekStart(at, user.timeZone, 1);
            const stored = await archive.get('discover-weekly', week, user.id);
            if (stored) return stored;
            const vec = isFactorized(run.model) ? { dim: run.model.factors, data: run.model.itemFactors() } : undefined;
            return toPlaylist('discover-weekly', 'Discover Weekly', user.id, week, discoverWeekly(user, catalog, [cfSource(run.model, s.users, s.userTracks, catalog, vec), popularitySource(catalog)]), catalog, run.runId, createdAt);
          }
          if (kind === 'release-radar') {
            const friday = weekStart(at, user.timeZone, 5);
            const stored = await archive.get('release-radar', friday, user.id);
            if (stored) return stored;
            const m = run.model;
            const aff = (_u: unknown, ts: number[]) => {
              const r = m.recommend(u, s.userTracks, catalog.tracks.length, { filterHeard: false, candidates: Int32Array.from(ts) });
              const sc = new Map(Array.from(r.items, (x, i) => [x, r.scores[i]]));
              return ts.map((x) => sc.get(x) ?? 0);
            };
            return toPlaylist('release-radar', 'Release Radar', user.id, friday, releaseRadar(user, catalog, { friday, affinity: aff }), catalog, run.runId, createdAt);
          }
          if (!isFactorized(run.model)) throw new DeepcutError('unavailable', `Daily Mixes need a factor model; run ${run.runId} has ${run.model.name}`);
          const f = run.model.factors;
          const items = run.model.itemFactors();
          const mixes = dailyMixes(user, catalog, {
            vector: (x) => items.subarray(x * f, (x + 1) * f),
            nearest: (q, k) => nearestByInnerProduct({ dim: f, data: items }, q, k),
            seed: config.cf.seed,
            size: 30,
          });
          const i = Number(o.mix) - 1;
          if (!mixes[i]) throw new DeepcutError('not_found', `user ${target} has ${mixes.length} Daily Mix(es); --mix ${o.mix} does not exist`);
          return toPlaylist('daily-mix', mixes[i].title, user.id, `${at.toISOString().slice(0, 10)}/${i + 1}`, mixes[i].tracks, catalog, run.runId, createdAt);
        })();
        const text = exportPlaylist(p, o.format);
        if (o.out) {
          await writeFile(o.out, text);
          emit(globals(c), { file: o.out, tracks: p.tracks.length, id: p.id }, (r) => `wrote ${r.tracks} tracks to ${r.file}`);
        } else if (globals(c).json) emit(globals(c), p, () => '');
        else if (o.format === 'json') process.stdout.write(`${p.title} (${p.id})\n` + table(['#', 'track', 'artists', 'why'], p.tracks.map((t, i) => [i + 1, t.title, t.artists.join(', '), t.reason])) + '\n');
        else process.stdout.write(text);
      } finally {
        await run.close();
      }
    });
}

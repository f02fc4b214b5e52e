import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { emit, table } from '../output.ts';
import type { ExportFormat, Playlist } from '../../playlists/index.ts';
import { DeepcutError } from '../../errors.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({
  ...(await import('../context.ts')),
  ...(await import('../../pipeline/published.ts')),
  ...(await import('../../pipeline/steps.ts')),
  ...(await import('../../playlists/index.ts')),
  ...(await import('../../cf/index.ts')),
  ...(await import('../../serving/index.ts')),
});

const kinds = ['discover-weekly', 'release-radar', 'daily-mix', 'radio'] as const;
/** The help text's copy of playlists/export.ts `exportFormats` (help.test.ts keeps them equal). */
export const exportFormats: readonly ExportFormat[] = ['json', 'jspf', 'xspf', 'm3u8'];

/**
 * `deepcut playlist <kind> <user or seed> [--date D] [--format F] [--out FILE]`: a playlist from the
 * published run, the same one the API serves. Discover Weekly and Release Radar: the stored list
 * of that week (or the latest of the 4 weeks before), as `GET /v1/users/:id/playlists/<kind>`
 * reads it; only when none is stored, made on the spot by the same function with the run's inputs.
 * Daily Mixes: the run's stored mixes. Radio: from a seed track or artist id, as `GET /v1/radio`.
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
      const { configFrom, globals, openPublished, productOfRun, openPlaylistArchive, exportPlaylist, playlistTitles, readRunPlaylists, storedWeekly, toPlaylist, weeklyKey, isFactorized } = await load();
      const config = configFrom(c);
      const run = await openPublished(config, { threads: config.cf.threads });
      try {
        const catalog = run.snapshot.catalog;
        const createdAt = new Date().toISOString();
        const product = await productOfRun(run, config.cf.seed);
        const p: Playlist = await (async () => {
          if (kind === 'radio') {
            const r = product.radio(target);
            if (!r) throw new DeepcutError('not_found', `no track or artist "${target}" in run ${run.runId}`);
            return toPlaylist('radio', `${r.seedName} Radio`, undefined, target, r.tracks, catalog, run.runId, createdAt);
          }
          const user = product.history(target);
          if (!user) throw new DeepcutError('not_found', `no user "${target}" in run ${run.runId}`);
          if (kind === 'discover-weekly' || kind === 'release-radar') {
            const archive = await openPlaylistArchive(config);
            const stored = await storedWeekly(archive, kind, user.id, user.timeZone, at).finally(() => archive.close());
            if (stored) return stored;
            const key = weeklyKey(kind, at, user.timeZone);
            const made = kind === 'discover-weekly' ? product.discoverWeekly(user) : product.releaseRadar(user, key);
            return toPlaylist(kind, playlistTitles[kind], user.id, key, made, catalog, run.runId, createdAt);
          }
          const i = Number(o.mix) - 1;
          const file = join(run.dir, 'playlists', 'daily-mixes.jsonl');
          let mixes: Playlist[];
          if (existsSync(file)) mixes = (await readRunPlaylists(file)).get(user.id) ?? [];
          else {
            if (!isFactorized(run.model)) throw new DeepcutError('unavailable', `Daily Mixes need a factor model; run ${run.runId} has ${run.model.name}`);
            mixes = product.dailyMixes(user).map((m, j) => toPlaylist('daily-mix', m.title, user.id, `${at.toISOString().slice(0, 10)}/${j + 1}`, m.tracks, catalog, run.runId, createdAt));
          }
          if (!mixes[i]) throw new DeepcutError('not_found', `user ${target} has ${mixes.length} Daily Mix(es); --mix ${o.mix} does not exist`);
          return mixes[i];
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

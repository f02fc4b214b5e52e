import type { Command } from 'commander';
import { emit, table } from '../output.ts';
import { DeepcutError, exitCode } from '../../errors.ts';

/**
 * What the action runs, imported only when it runs (`--help` loads none of it: see program.ts):
 * the audio stage's batch door, not its index, so that neither the artifact readers (cf) nor the
 * store nor TensorFlow.js load before the first file (analyze-imports.test.ts).
 */
const load = async () => ({ ...(await import('../context.ts')), ...(await import('../../util/progress.ts')), ...(await import('../../audio/batch.ts')), ...(await import('../../log.ts')) });

const KEYS = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/**
 * `deepcut analyze <files…> [--json]`: audio features of each file (tempo, beats, meter, key,
 * loudness, energy, danceability), on a worker pool, cached by content hash under
 * `<home>/cache/audio` (so an interrupted run resumes). A file that fails is reported and the
 * others go on; the exit code is non-zero if any failed.
 */
export function register(program: Command): void {
  program
    .command('analyze')
    .description('audio features of audio files (WAV natively; MP3/OGG/FLAC via audio-decode or ffmpeg)')
    .argument('<files...>', 'audio files')
    .option('--threads <n>', 'worker threads (default: config cf.threads)')
    .option('--no-cache', 'do not read or write the feature cache')
    .option('--beats', 'include beat and downbeat times in the JSON output')
    .action(async (files: string[], o: { threads?: string; cache: boolean; beats?: boolean }, c: Command) => {
      const { configFrom, globals, progress, analyzeFiles, audioCacheDir, log } = await load();
      const config = configFrom(c);
      const g = globals(c);
      const threads = o.threads === undefined ? config.cf.threads : Number(o.threads);
      if (!Number.isInteger(threads) || threads < 1) throw new DeepcutError('invalid_input', `--threads expects a positive integer, got "${o.threads}"`, { field: '--threads' });
      // performance.now() and process.cpuUsage() count from the process's start: the start-up the bench reports
      const cpu = process.cpuUsage();
      log('analyze').debug({ files: files.length, startup_ms: Math.round(performance.now()), startup_cpu_ms: Math.round((cpu.user + cpu.system) / 1000) }, 'analysing');
      const bar = progress('analyze', files.length);
      const outcomes = await analyzeFiles(files, { threads, cacheDir: o.cache ? audioCacheDir(config.home) : undefined, onProgress: () => bar.tick() });
      bar.done();
      const failed = outcomes.filter((x) => x.error);
      const results = outcomes.map((x) => {
        if (!x.features || o.beats) return x;
        const { beats_s: _b, downbeats_s: _d, ...rest } = x.features;
        return { ...x, features: rest };
      });
      emit(g, { files: results, analyzed: outcomes.length - failed.length, failed: failed.length }, (r) =>
        [
          table(
            ['file', 'bpm', 'meter', 'key', 'cents', 'LUFS', 'energy', 'dance'],
            r.files.map((x) =>
              x.features
                ? [x.file, x.features.tempo_bpm || '–', x.features.time_signature ? `${x.features.time_signature}/${x.features.time_signature === 6 ? 8 : 4}` : '–', x.features.key < 0 ? '–' : `${KEYS[x.features.key]} ${x.features.mode ? 'maj' : 'min'}`, x.features.tuning_cents, x.features.loudness_lufs, x.features.energy, x.features.danceability]
                : [x.file, null, null, null, null, null, null, null],
            ),
            2,
          ),
          ...r.files.flatMap((x) => Object.entries(x.features?.unknown ?? {}).map(([k, why]) => `${x.file}: ${k} unknown (${why})`)),
          ...failed.map((x) => `error: ${x.error?.message}`),
        ].join('\n'),
      );
      if (failed.length) {
        // Not thrown: the result above stays the last JSON line; the exit code still says it.
        const e = new DeepcutError(failed.every((x) => x.error?.code === 'not_found') ? 'not_found' : 'invalid_input', `${failed.length} of ${outcomes.length} file(s) could not be analysed`);
        process.stderr.write(`deepcut: ${e.message}\n`);
        process.exitCode = exitCode(e);
      }
    });
}

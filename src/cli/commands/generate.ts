import type { Command } from 'commander';
import { emit, table } from '../output.ts';
import { DeepcutError } from '../../errors.ts';
import type { WorldSize } from '../../generate/index.ts';

/** What the actions run, imported only when one runs (`--help` loads none of it: see program.ts). */
const load = async () => ({ ...(await import('../context.ts')), ...(await import('../../generate/index.ts')) });

/** `DEFAULT_CLOCK` of generate/world.ts, for the help text (help.test.ts keeps the two equal). */
export const DEFAULT_CLOCK = '2026-11-20T12:00:00Z';

/** `deepcut generate`: write a seeded demo world (import files + truth/) into a folder. */
export function register(program: Command): void {
  program
    .command('generate')
    .description('write a seeded demo world in the import format, with its ground truth under truth/')
    .option('--size <size>', 'small | default | large', 'default')
    .option('--seed <n>', 'random seed (integer)', '42')
    .requiredOption('--out <dir>', 'output folder (new, empty, or an earlier world)')
    .option('--clock <iso>', `the world's "now": listens end here (default ${DEFAULT_CLOCK})`)
    .option('--audio-clips <n>', 'number of WAV clips (default: by size)')
    .action(async (o: { size: string; seed: string; out: string; clock?: string; audioClips?: string }, c: Command) => {
      const { configFrom, globals, SIZES, generateWorld } = await load();
      configFrom(c);
      if (!(o.size in SIZES)) throw new DeepcutError('invalid_input', `unknown size "${o.size}"; expected small, default or large`, { field: '--size' });
      const seed = Number(o.seed);
      const audioClips = o.audioClips === undefined ? undefined : Number(o.audioClips);
      if (audioClips !== undefined && !(Number.isInteger(audioClips) && audioClips >= 0)) {
        throw new DeepcutError('invalid_input', `--audio-clips must be a non-negative integer, got "${o.audioClips}"`, { field: '--audio-clips' });
      }
      const summary = await generateWorld({ size: o.size as WorldSize, seed, out: o.out, clock: o.clock, audioClips });
      emit(globals(c), summary, (s) =>
        [
          `generated the ${s.size} world (seed ${s.seed}, clock ${s.clock}) in ${s.out}: ${(s.bytes / 1e6).toFixed(1)} MB in ${s.seconds.toFixed(1)} s`,
          table(['entity', 'rows'], Object.entries(s.counts).map(([k, v]) => [k, v])),
        ].join('\n'),
      );
    });
}

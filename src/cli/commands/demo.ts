import type { Command } from 'commander';
import { configFrom, globals } from '../context.ts';
import { emit } from '../output.ts';

/**
 * `deepcut demo`: the main job — generate the demo world, import it, run the pipeline and serve
 * the web page. Each stage runs when it exists in this build; the ones that do not are named.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('build the demo world, import it, run the pipeline and serve the web page')
    .action(async (_o, c: Command) => {
      const config = configFrom(c);
      const stages = [
        { stage: 'generate demo world', available: false },
        { stage: 'import + validate', available: false },
        { stage: 'pipeline (signals, models, playlists)', available: false },
        { stage: 'serve web page', available: false },
      ];
      emit(globals(c), { home: config.home, stages }, (r) =>
        [`deepcut demo (home ${r.home})`, ...r.stages.map((s) => `  ${s.available ? 'ran  ' : 'not yet in this build:'} ${s.stage}`)].join('\n'),
      );
    });
}

/**
 * The `deepcut` command. This file only parses flags and wires commands; each command lives in
 * `commands/<name>.ts` and registers itself in `commands/index.ts`.
 */
import { Command, CommanderError } from 'commander';
import { exitCode, isDeepcutError } from '../errors.ts';
import { commands } from './commands/index.ts';

const program = new Command('deepcut')
  .description('Music personalization engine: Discover Weekly, Release Radar, a bandit home page, radio and similar tracks for any catalog.')
  .version('0.1.0')
  .option('-c, --config <file>', 'config file (default: ./deepcut.config.json when present)')
  .option('--set <key=value...>', 'override a config key, e.g. --set cf.factors=32')
  .option('--home <dir>', 'data folder (config key home, env DEEPCUT_HOME)')
  .option('--log-level <level>', 'trace|debug|info|warn|error|silent')
  .option('--json', 'print exactly one JSON object as the last line of stdout')
  .showHelpAfterError()
  .exitOverride();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    const json = process.argv.includes('--json');
    const message = e instanceof Error ? e.message : String(e);
    if (json) process.stdout.write(JSON.stringify({ error: { code: isDeepcutError(e) ? e.code : 'internal', message } }) + '\n');
    process.stderr.write(`deepcut: ${isDeepcutError(e) ? '' : 'internal error: '}${message}\n`);
    if (!isDeepcutError(e) && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    process.exitCode = exitCode(e);
  }
}

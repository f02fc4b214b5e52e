/**
 * The `deepcut` command tree: the global flags and every command's name, description and options.
 * Building it loads commander and src/cli only: each command imports the code it runs when its
 * action runs (see `commands/*.ts`), so `deepcut --help` and `deepcut <cmd> --help` start at once
 * (help.test.ts checks that no stage module is loaded).
 */
import { Command } from 'commander';
import { commands } from './commands/index.ts';

/** A fresh program with every command registered; `main.ts` parses `process.argv` with it. */
export function buildProgram(): Command {
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
  return program;
}

/**
 * The `deepcut` command. This file only parses flags and maps errors to exit codes; the command
 * tree is `program.ts`, each command lives in `commands/<name>.ts` and registers itself in
 * `commands/index.ts`, and imports what it runs only when it runs.
 */
import { CommanderError } from 'commander';
import { exitCode, isDeepcutError } from '../errors.ts';
import { buildProgram } from './program.ts';

try {
  await buildProgram().parseAsync(process.argv);
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

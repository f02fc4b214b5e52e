/** Every CLI command, in the order `deepcut --help` lists them. Add one line per new command. */
import type { Command } from 'commander';
import { register as config } from './config.ts';
import { register as evaluate } from './eval.ts';
import { register as demo } from './demo.ts';
import { register as serve } from './serve.ts';
import { register as keys } from './keys.ts';

export const commands: ((program: Command) => void)[] = [demo, config, evaluate, serve, keys];

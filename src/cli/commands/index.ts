/**
 * Every CLI command, in the order `deepcut --help` lists them. Add one line per new command. A
 * command file imports only commander, `../output.ts` and `../../errors.ts` at its top and the rest
 * inside its action (`const { … } = await load()`), so that help loads no stage code (help.test.ts).
 */
import type { Command } from 'commander';
import { register as config } from './config.ts';
import { register as evaluate } from './eval.ts';
import { register as demo } from './demo.ts';
import { register as generate } from './generate.ts';
import { register as serve } from './serve.ts';
import { register as keys } from './keys.ts';
import { register as importCmd } from './import.ts';
import { register as exportCmd } from './export.ts';
import { register as validate } from './validate.ts';
import { register as quarantine } from './quarantine.ts';
import { register as pipeline } from './pipeline.ts';
import { register as fleetRoles } from './fleet-roles.ts';
import { register as playlist } from './playlist.ts';
import { register as analyze } from './analyze.ts';
import { register as similar } from './similar.ts';

export const commands: ((program: Command) => void)[] = [demo, generate, config, evaluate, serve, keys, importCmd, exportCmd, validate, quarantine, pipeline, fleetRoles, playlist, analyze, similar];

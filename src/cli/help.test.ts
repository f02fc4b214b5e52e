import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formats as importFormats, entityKinds as importEntityKinds } from './commands/import.ts';
import { exportFormats as playlistFormats } from './commands/playlist.ts';
import { exportKinds as cliExportKinds, lakeFormats as cliLakeFormats } from './commands/export.ts';
import { exportKinds, lakeFormats } from '../ingest/index.ts';
import { OWN_SOURCE as validateOwnSource } from './commands/validate.ts';
import { OWN_SOURCE } from '../validate/index.ts';
import { DEFAULT_CLOCK as generateClock } from './commands/generate.ts';
import { formats } from '../ingest/index.ts';
import { entityKinds } from '../domain/schemas.ts';
import { exportFormats } from '../playlists/index.ts';
import { DEFAULT_CLOCK } from '../generate/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Run `node --import tsx <args>` with a resolve hook that records every module URL it loads; return
 * the repository files (relative paths) and the npm packages among them.
 */
function loaded(args: string[]): { files: string[]; packages: string[]; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'deepcut-help-'));
  try {
    const trace = join(dir, 'trace.txt');
    const hooks = `import { appendFileSync } from 'node:fs';
      export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(trace)}, r.url + '\\n'); return r; }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify('data:text/javascript,' + encodeURIComponent(hooks))});`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', 'data:text/javascript,' + encodeURIComponent(register), ...args], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const urls = [...new Set(readFileSync(trace, 'utf8').split('\n').filter((u) => u.startsWith('file:')))];
    const paths = urls.map((u) => relative(root, fileURLToPath(u)));
    const files = paths.filter((p) => !p.startsWith('node_modules'));
    const packages = [...new Set(paths.filter((p) => p.startsWith('node_modules')).map((p) => p.split('/').slice(1, p.split('/')[1].startsWith('@') ? 3 : 2).join('/')))];
    return { files, packages, stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Modules that help may load: the CLI's own, the error kinds, and commander. */
function assertNoStageCode(l: { files: string[]; packages: string[] }): void {
  assert.ok(l.files.some((f) => f === 'src/cli/program.ts'), `the trace saw the program: ${l.files.join(', ')}`);
  const stage = l.files.filter((f) => !f.startsWith('src/cli/') && f !== 'src/errors.ts' && f !== 'bin/deepcut.js');
  assert.deepEqual(stage, [], 'help imported stage code; import it inside the action (`await load()`) instead');
  assert.deepEqual(l.packages, ['commander']);
}

test('deepcut --help loads commander and src/cli only', () => {
  const l = loaded(['src/cli/main.ts', '--help']);
  assert.match(l.stdout, /^ {2}analyze\b/m);
  assertNoStageCode(l);
});

test("every command's and subcommand's --help loads commander and src/cli only", () => {
  const program = pathToFileURL(join(root, 'src/cli/program.ts')).href;
  const script = `const { buildProgram } = await import(${JSON.stringify(program)});
    const all = []; const walk = (c, path) => { c.helpInformation(); all.push(path); c.commands.forEach((s) => walk(s, path + ' ' + s.name())); };
    walk(buildProgram(), 'deepcut'); console.log(JSON.stringify(all));`;
  const l = loaded(['--input-type=module', '-e', script]);
  const helped = JSON.parse(l.stdout) as string[];
  for (const c of ['deepcut analyze', 'deepcut import', 'deepcut pipeline run', 'deepcut validate schema edit', 'deepcut similar artist']) assert.ok(helped.includes(c), `${c} in ${helped.join(', ')}`);
  assertNoStageCode(l);
});

test('help texts copied into the CLI equal their originals in the stages', () => {
  assert.deepEqual(importFormats, formats.map((f) => ({ name: f.name, description: f.description })), 'update `formats` in src/cli/commands/import.ts');
  assert.deepEqual(importEntityKinds, entityKinds, 'update `entityKinds` in src/cli/commands/import.ts');
  assert.deepEqual(playlistFormats, exportFormats, 'update `exportFormats` in src/cli/commands/playlist.ts');
  assert.deepEqual([cliExportKinds, cliLakeFormats], [exportKinds, lakeFormats], 'update `exportKinds` and `lakeFormats` in src/cli/commands/export.ts');
  assert.equal(validateOwnSource, OWN_SOURCE, 'update `OWN_SOURCE` in src/cli/commands/validate.ts');
  assert.equal(generateClock, DEFAULT_CLOCK, 'update `DEFAULT_CLOCK` in src/cli/commands/generate.ts');
});

#!/usr/bin/env node
// Entry point of the `deepcut` command. An installed package runs the compiled JavaScript in dist/
// (built by `npm pack`; no TypeScript loader at run time). A source checkout runs dist/ as well when
// it is up to date — its dist/.built stamp (written last by `npm run build`) is newer than every
// source file — and otherwise runs src/ through tsx (a devDependency), so that an edit is never
// hidden by a stale build and a fresh clone works before its first build.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const stamp = new URL('dist/.built', root);
const src = new URL('src/', root);

/** The newest modification time (ms) of the files under `dir`, tests left out. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.isDirectory() ? `${e.name}/` : e.name, dir);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (!e.name.includes('.test.')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

if (existsSync(stamp) && (!existsSync(src) || newest(src) <= statSync(stamp).mtimeMs)) {
  await import('../dist/src/cli/main.js');
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write('deepcut: dist/ is missing or older than src/ and tsx is not installed: run `npm run build` (or `npm install`)\n');
    process.exit(1);
  }
  tsx.register();
  await import('../src/cli/main.ts');
}

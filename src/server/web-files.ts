/**
 * The web app's files: the pages and modules under src/web plus the UI and chart libraries from
 * the package's own dependencies (Preact, htm, uPlot: no CDN), read once at start, served as
 * `/web/<name>` (the libraries as `/web/vendor/<name>`) with the gzip body when the client accepts
 * it. The gzip bodies are made by the build (scripts/build.mjs: `build/web/<name>.gz`, run by
 * `npm install`/`npm ci`); one missing or older than its file is made on its first request.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeepcutError } from '../errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
const webDir = join(here, '..', 'web');
/** The build's gzip bodies (`build/web/` beside src/, or dist/build/web/ beside dist/src/). */
const gzDir = join(here, '..', '..', 'build', 'web');
const mime: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

/** The libraries the pages import (by the import map in each page): served name → package file. */
const VENDOR: Record<string, string> = {
  'preact.js': 'preact/dist/preact.module.js',
  'hooks.js': 'preact/hooks/dist/hooks.module.js',
  'htm.js': 'htm/dist/htm.module.js',
  'uplot.js': 'uplot/dist/uPlot.esm.js',
  'uplot.css': 'uplot/dist/uPlot.min.css',
};

interface WebFile {
  type: string;
  body: Buffer;
  /** The gzip body: the build's when it is current, else made on first use. */
  gzip: () => Buffer;
}

/**
 * Served name → the file it is read from: the pages and modules, and the vendored libraries,
 * resolved from `resolveFrom` (a file path or URL; default this module: the build passes its own
 * root when it compiles into a folder outside the package).
 */
export function webSources(resolveFrom: string = import.meta.url): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(webDir)) if (mime[extname(f)] && !f.includes('.test.')) out.set(f, join(webDir, f));
  const require = createRequire(resolveFrom);
  for (const [name, pkgFile] of Object.entries(VENDOR)) {
    // the package's folder from its main file (exports maps hide dist/ and package.json)
    const [pkg] = pkgFile.split('/');
    const main = require.resolve(pkg);
    const at = main.lastIndexOf(`${sep}node_modules${sep}${pkg}${sep}`);
    out.set(`vendor/${name}`, join(main.slice(0, at + `${sep}node_modules${sep}${pkg}`.length), pkgFile.slice(pkg.length + 1)));
  }
  return out;
}

/** A file's gzip body as the build writes it (level 9); also the fallback when the build's is missing. */
export const gzipWeb = (body: Buffer) => gzipSync(body, { level: 9 });

function load(): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  for (const [name, path] of webSources()) {
    const body = readFileSync(path);
    const built = join(gzDir, `${name}.gz`);
    let gz: Buffer | undefined = existsSync(built) && statSync(built).mtimeMs >= statSync(path).mtimeMs ? readFileSync(built) : undefined;
    files.set(name, { type: mime[extname(name)], body, gzip: () => (gz ??= gzipWeb(body)) });
  }
  return files;
}

/** Register `/`, `/admin` and `/web/*` on `app`. */
export function registerWebFiles(app: FastifyInstance): void {
  const files = load();
  const send = (name: string, req: FastifyRequest, reply: FastifyReply) => {
    const f = files.get(name);
    if (!f) throw new DeepcutError('not_found', `no web file ${name}`);
    void reply.type(f.type).header('Vary', 'Accept-Encoding').header('Cache-Control', name.startsWith('vendor/') ? 'public, max-age=86400' : 'no-cache');
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(f.gzip());
    return reply.send(f.body);
  };
  const open = { config: { rateLimit: false as const } };
  app.get('/', open, (req, reply) => send('index.html', req, reply));
  app.get('/admin', open, (req, reply) => send('admin.html', req, reply));
  app.get<{ Params: { file: string } }>('/web/:file', open, (req, reply) => send(req.params.file, req, reply));
  app.get<{ Params: { file: string } }>('/web/vendor/:file', open, (req, reply) => send(`vendor/${req.params.file}`, req, reply));
}

/**
 * The web app's files: the pages and modules under src/web plus the UI and chart libraries from
 * the package's own dependencies (Preact, htm, uPlot: no CDN), read once at start and gzipped
 * once, served as `/web/<name>` (the libraries as `/web/vendor/<name>`) with the gzip body when
 * the client accepts it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeepcutError } from '../errors.ts';

const webDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');
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
  gzip: Buffer;
}

function load(): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  const add = (name: string, path: string) => {
    const body = readFileSync(path);
    files.set(name, { type: mime[extname(name)], body, gzip: gzipSync(body, { level: 9 }) });
  };
  for (const f of readdirSync(webDir)) if (mime[extname(f)] && !f.includes('.test.')) add(f, join(webDir, f));
  const require = createRequire(import.meta.url);
  for (const [name, pkgFile] of Object.entries(VENDOR)) {
    // the package's folder from its main file (exports maps hide dist/ and package.json)
    const [pkg] = pkgFile.split('/');
    const main = require.resolve(pkg);
    const at = main.lastIndexOf(`${sep}node_modules${sep}${pkg}${sep}`);
    add(`vendor/${name}`, join(main.slice(0, at + `${sep}node_modules${sep}${pkg}`.length), pkgFile.slice(pkg.length + 1)));
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
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(f.gzip);
    return reply.send(f.body);
  };
  const open = { config: { rateLimit: false as const } };
  app.get('/', open, (req, reply) => send('index.html', req, reply));
  app.get('/admin', open, (req, reply) => send('admin.html', req, reply));
  app.get<{ Params: { file: string } }>('/web/:file', open, (req, reply) => send(req.params.file, req, reply));
  app.get<{ Params: { file: string } }>('/web/vendor/:file', open, (req, reply) => send(`vendor/${req.params.file}`, req, reply));
}

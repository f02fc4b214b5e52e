/**
 * Where a catalog's relative `audio_path` points: the first existing file among the given folders,
 * the folders the catalog was imported from (recorded by the importer), and the working directory.
 * The audio step reads the files through it, the server streams them through it.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Store } from '../store/index.ts';
import { PROGRESS_NS } from './import.ts';

export async function audioPathResolver(store: Pick<Store, 'listMeta'>, baseDirs: string[] = []): Promise<(path: string) => string> {
  const imported = (await store.listMeta<{ file?: string }>(PROGRESS_NS)).map((m) => m.value.file).filter((f): f is string => typeof f === 'string');
  const tracksFirst = [...imported.filter((f) => basename(f).startsWith('tracks')), ...imported];
  const dirs = [...new Set([...baseDirs.map((d) => resolve(d)), ...tracksFirst.map((f) => dirname(f)), process.cwd()])];
  return (p) => {
    if (isAbsolute(p)) return p;
    for (const d of dirs) if (existsSync(join(d, p))) return join(d, p);
    return resolve(dirs[0], p);
  };
}

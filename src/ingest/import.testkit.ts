/**
 * Scratch space for import tests: `folder(files)` writes files into a new folder under a temp root,
 * `withStore(fn)` runs `fn` on a new embedded store there and closes it, `jl(rows)` is JSON lines.
 * The root is removed when the test file's tests are done.
 */
import { after } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../store/index.ts';

export function importSandbox(prefix: string) {
  const root = mkdtempSync(join(tmpdir(), `deepcut-${prefix}-`));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  return {
    root,
    folder(files: Record<string, string | Buffer>): string {
      const d = join(root, `d${n++}`);
      mkdirSync(d);
      for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), content);
      return d;
    },
    async withStore<T>(fn: (s: Store) => Promise<T>, home = join(root, `h${n++}`)): Promise<T> {
      const s = await openStore({ home });
      try {
        return await fn(s);
      } finally {
        await s.close();
      }
    },
  };
}

export const jl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

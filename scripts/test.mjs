// `npm test`: type-check, then run every *.test.ts beside the code with node's test runner.
// Extra arguments are passed as file filters: `npm test -- store` runs tests whose path contains "store".
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = find('src').concat(find('bench')).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (filters.length === 0) {
  const tc = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
  if (tc.status !== 0) { console.error('type check failed'); process.exit(tc.status ?? 1); }
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);

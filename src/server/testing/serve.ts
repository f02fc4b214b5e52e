/**
 * A real `deepcut serve` process for tests: started on loopback with `--port 0`, resolved with the
 * URL it prints once it listens; a server that exits first rejects with its stderr. The caller
 * stops it (`proc.kill()`), also when the test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/deepcut.js', import.meta.url));

export function startServe(home: string, args: string[], env: NodeJS.ProcessEnv = { ...process.env, DEEPCUT_LOG_LEVEL: 'warn' }): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, [bin, '--home', home, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    proc.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ proc, url: (JSON.parse(line) as { url: string }).url });
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`)));
  });
}

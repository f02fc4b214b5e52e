/**
 * Open-loop HTTP load at a fixed rate: request i is due at `start + i / rate`, whatever happened to
 * the earlier ones, and its latency is measured from that due time to the end of its response. So
 * a server (or a generator) that falls behind shows it in the latency instead of quietly sending
 * less (no coordinated omission). This is what "p99 at 1,000 requests/s" means.
 *
 * Why not autocannon's `overallRate`: it lets every connection send back to back until it has
 * used its share of the second, then waits for the next second. At 1,000 req/s over 20
 * connections that is a burst of 20 concurrent requests at the start of each second, not a rate,
 * and its latency correction assumes a 1 ms interval. The API bench reports both.
 */
import http from 'node:http';

export interface PacedOptions {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** Requests per second, spread evenly. */
  rate: number;
  seconds: number;
  /** Path of request i (called at its due time). */
  path: (i: number) => string;
  headers?: Record<string, string>;
  /** Most sockets open at once (keep-alive); requests beyond wait for a free one, their wait counted. */
  sockets?: number;
  /**
   * Seconds of the same load run first and not measured (default 2): sockets get opened and the
   * server's code paths compiled, so the figures are of the steady state.
   */
  warmupSeconds?: number;
}

export interface PacedResult {
  sent: number;
  /** 2xx responses. */
  ok: number;
  /** Non-2xx responses and transport errors. */
  errors: number;
  /** Requests completed per second of the run. */
  rate: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** Run an open-loop load; resolves when every request sent has ended. */
export async function paced(opts: PacedOptions): Promise<PacedResult> {
  const { hostname, port } = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.sockets ?? 64 });
  const warm = Math.round(opts.rate * (opts.warmupSeconds ?? 2));
  const total = warm + Math.round(opts.rate * opts.seconds);
  const interval = 1000 / opts.rate;
  const latencies = new Float64Array(total);
  let sent = 0;
  let ended = 0;
  let ok = 0;
  let errors = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const finish = (i: number, due: number, good: boolean) => {
      latencies[i] = performance.now() - due;
      if (i >= warm) {
        if (good) ok++;
        else errors++;
      }
      if (++ended === total) resolve();
    };
    const fire = (i: number, due: number) => {
      const req = http.get({ agent, host: hostname, port, path: opts.path(i), headers: opts.headers }, (res) => {
        const good = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
        res.on('end', () => finish(i, due, good));
        res.on('error', () => finish(i, due, false));
        res.resume();
      });
      req.on('error', () => finish(i, due, false));
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        fire(sent, start + sent * interval);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    if (total === 0) resolve();
    else tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = latencies.slice(warm).sort();
  const n = sorted.length;
  const pct = (p: number) => (n ? +sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)].toFixed(2) : 0);
  return { sent: n, ok, errors, rate: +(ended / elapsed).toFixed(1), p50_ms: pct(50), p90_ms: pct(90), p99_ms: pct(99), max_ms: n ? +sorted[n - 1].toFixed(2) : 0 };
}

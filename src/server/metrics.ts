/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written by hand: counters and
 * histograms with labels, no dependency. Request latency buckets are in seconds.
 */
import { latestOfAllRuns, latestRun } from '../pipeline/index.ts';
import type { Store } from '../store/index.ts';
import { artifactFetchStats } from '../artifacts/index.ts';

type Labels = Record<string, string>;

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (l: Labels) => {
  const e = Object.entries(l);
  return e.length ? `{${e.map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}` : '';
};

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = labelText(labels);
    const v = this.values.get(k);
    if (v) v.value += by;
    else this.values.set(k, { labels, value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: Float64Array; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  ) {}

  observe(labels: Labels, value: number): void {
    const k = labelText(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

const FETCH_HELP: Record<string, string> = {
  artifact_fetch_runs_total: 'Runs fetched from the artifact store into the local cache.',
  artifact_fetch_files_total: 'Files downloaded from the artifact store (checked against their SHA-256).',
  artifact_fetch_cache_hits_total: 'Files of fetched runs found in the local cache by content hash, not downloaded.',
  artifact_fetch_bytes_total: 'Bytes downloaded from the artifact store.',
  artifact_fetch_retries_total: 'Artifact downloads retried after an error (a broken connection, a checksum mismatch).',
  artifact_fetch_failures_total: 'Artifact fetches given up after their retries; the node keeps serving the run it has.',
  artifact_fetch_last_error_timestamp_seconds: 'When the last artifact fetch error happened (0: never), labelled with the object and the message.',
};

/** `deepcut_artifact_fetch_*`: the process's downloads from the artifact store (src/artifacts). */
function artifactFetches(): string {
  const last = artifactFetchStats.lastError;
  const lines: string[] = [];
  for (const [name, value] of Object.entries(artifactFetchStats.metrics())) {
    const labels = name.endsWith('_timestamp_seconds') && last ? labelText({ key: last.key, error: last.message.slice(0, REASON_MAX) }) : '';
    lines.push(`# HELP deepcut_${name} ${FETCH_HELP[name]}`, `# TYPE deepcut_${name} ${name.endsWith('_total') ? 'counter' : 'gauge'}`, `deepcut_${name}${labels} ${value}`);
  }
  return lines.join('\n') + '\n';
}

/** The longest `reason` label of the pipeline gauge (a gate's message can name many batches). */
const REASON_MAX = 300;

/** The server's metrics. */
export class Metrics {
  /**
   * `home`: where this machine's pipeline runs are, for the pipeline gauges (none when absent);
   * `store`: the runs every machine mirrors there, so an API node of a fleet, which builds no run
   * of its own, reports the workers' runs (the admin page's list, `listAllRuns`).
   */
  constructor(
    private readonly home?: string,
    private readonly store?: Pick<Store, 'listMeta'>,
  ) {}

  readonly requests = new Counter('deepcut_http_requests_total', 'HTTP requests by method, route and status code.');
  readonly latency = new Histogram('deepcut_http_request_duration_seconds', 'HTTP request latency by method and route, seconds.');
  readonly listens = new Counter('deepcut_listens_ingested_total', 'Listens committed to the store, by endpoint.');
  readonly duplicates = new Counter('deepcut_listens_duplicate_total', 'Listens received whose listen_id was already stored.');
  readonly storeErrors = new Counter('deepcut_store_errors_total', 'Store operations that failed, by operation.');
  readonly matches = new Counter(
    'deepcut_track_matches_total',
    'Submitted listens by how their named track resolved: outcome mbid, isrc or name (matched to a catalog track), history (a track created earlier from names), created (new track).',
  );
  readonly swaps = new Counter('deepcut_run_swaps_total', 'Times this server swapped to a newly published run without a restart.');
  readonly swapFailures = new Counter('deepcut_run_swap_failures_total', 'Loads of a newly published run that failed (the current run kept serving).');
  readonly catalogRows = new Counter('deepcut_fleet_catalog_rows_total', 'Catalog rows (tracks, artists) other nodes stored, added to this node\'s catalog.');
  readonly catchUps = new Counter('deepcut_fleet_catch_ups_total', 'Reloads of the run served after the listens channel reconnected, to fold in listens other nodes sent meanwhile.');
  readonly swapSeconds = new Histogram('deepcut_run_swap_seconds', 'Time from hearing of a publication to serving it (load beside the current run, then swap), seconds.', [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]);
  readonly listenLag = new Histogram('deepcut_fleet_listen_lag_seconds', 'Cross-node listen lag: from another API node committing a listen to this node folding it in, seconds.', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  /** The run served and when it was published (ms since epoch), for the gauges; set by the server. */
  served: (() => { run: string | null; publishedAt?: number }) | undefined;
  private readonly started = Date.now();

  /** The exposition text served at /metrics. */
  async render(): Promise<string> {
    const up = `# HELP deepcut_uptime_seconds Seconds since the server started.\n# TYPE deepcut_uptime_seconds gauge\ndeepcut_uptime_seconds ${(Date.now() - this.started) / 1000}`;
    return [this.requests, this.latency, this.listens, this.duplicates, this.storeErrors, this.matches, this.swaps, this.swapFailures, this.catchUps, this.catalogRows, this.swapSeconds, this.listenLag].map((m) => m.render()).join('\n') + '\n' + up + '\n' + this.run() + (await this.pipeline()) + artifactFetches();
  }

  /** `deepcut_run_served{run}` 1 and `deepcut_run_age_seconds` (since its publication) of the run this server answers from. */
  private run(): string {
    const s = this.served?.();
    if (!s) return '';
    const lines = ['# HELP deepcut_run_served The run this server answers from (label run; "none" before any).', '# TYPE deepcut_run_served gauge', `deepcut_run_served${labelText({ run: s.run ?? 'none' })} 1`];
    if (s.publishedAt !== undefined) lines.push('# HELP deepcut_run_age_seconds Seconds since the run served was published.', '# TYPE deepcut_run_age_seconds gauge', `deepcut_run_age_seconds ${(Date.now() - s.publishedAt) / 1000}`);
    return lines.join('\n') + '\n';
  }

  /** Count a request's match outcomes (e.g. from `lbToRows`) under `endpoint`. */
  countMatches(endpoint: string, outcomes: Readonly<Record<string, number>>): void {
    for (const [outcome, n] of Object.entries(outcomes)) if (n > 0) this.matches.inc({ endpoint, outcome }, n);
  }

  /** `deepcut_pipeline_blocked`: 1 with the step and reason when the latest run was stopped by a gate (validation), else 0. */
  private async pipeline(): Promise<string> {
    if (!this.home) return '';
    const home = this.home;
    // a store that fails the read leaves the gauges to this machine's own runs: a scrape never fails on it
    const run = await latestOfAllRuns(this.store, home).catch(() => latestRun(home));
    const lines = [
      '# HELP deepcut_pipeline_blocked 1 when the latest pipeline run was stopped by a gate (validation anomalies), labelled with the run, step and reason; the published run keeps serving.',
      '# TYPE deepcut_pipeline_blocked gauge',
    ];
    const b = run?.blocked;
    const reason = b && (b.reason.length > REASON_MAX ? b.reason.slice(0, REASON_MAX - 1) + '…' : b.reason);
    lines.push(b ? `deepcut_pipeline_blocked${labelText({ run: run!.runId, step: b.step, reason: reason! })} 1` : 'deepcut_pipeline_blocked 0');
    if (run) lines.push('# HELP deepcut_pipeline_last_run_status The latest pipeline run by status (running, failed, succeeded).', '# TYPE deepcut_pipeline_last_run_status gauge', `deepcut_pipeline_last_run_status${labelText({ run: run.runId, status: run.status })} 1`);
    return lines.join('\n') + '\n';
  }
}

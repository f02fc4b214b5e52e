/**
 * The validation report as one self-contained HTML page: per batch its status and reasons, the
 * anomalies by code and field, drift per feature, and the feature statistics with histograms.
 */
import type { ValidationRecord } from './batch.ts';
import type { BatchStatistics, FeatureStats } from './stats.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const num = (x: number | undefined, kind?: string) =>
  x === undefined ? '' : kind === 'timestamp' ? new Date(x).toISOString().replace('.000Z', 'Z') : Number.isInteger(x) ? x.toLocaleString('en-US') : x.toPrecision(4);

function bars(f: FeatureStats): string {
  const values = f.histogram ? f.histogram.counts : (f.top ?? []).slice(0, 10).map((t) => t.count);
  const labels = f.histogram ? f.histogram.counts.map((_, i) => (i === 0 ? '< min edge' : i === f.histogram!.counts.length - 1 ? '> max edge' : `${num(f.histogram!.edges[i - 1], f.kind)} – ${num(f.histogram!.edges[i], f.kind)}`)) : (f.top ?? []).slice(0, 10).map((t) => t.value);
  const max = Math.max(1, ...values);
  const w = 160;
  const h = 14;
  const rects = values.map((v, i) => `<rect x="0" y="${i * h}" width="${((v / max) * w).toFixed(1)}" height="${h - 2}" fill="#4a7"><title>${esc(labels[i])}: ${num(v)}</title></rect>`).join('');
  return `<svg width="${w}" height="${values.length * h}" role="img">${rects}</svg>`;
}

function statsTable(s: BatchStatistics): string {
  const rows = s.features.map(
    (f) =>
      `<tr><td>${esc(f.name)}</td><td>${f.kind}</td><td>${num(f.count)}</td><td>${num(f.missing)}</td><td>${num(f.distinct)}</td><td>${num(f.min, f.kind)}</td><td>${num(f.mean, f.kind)}</td><td>${f.kind === 'timestamp' ? '' : num(f.std)}</td><td>${num(f.max, f.kind)}</td><td>${esc((f.top ?? []).slice(0, 5).map((t) => `${t.value} (${t.count})`).join(', '))}</td><td>${bars(f)}</td></tr>`,
  );
  return `<table><tr><th>feature</th><th>kind</th><th>count</th><th>missing</th><th>distinct</th><th>min</th><th>mean</th><th>std</th><th>max</th><th>top values</th><th>distribution</th></tr>${rows.join('')}</table>`;
}

/** Render the report of `records` (with each batch's statistics when known). */
export function renderReport(records: ValidationRecord[], stats: Map<string, BatchStatistics>, generatedAt: Date): string {
  const sections = records.map((r) => {
    const s = stats.get(r.batch);
    return `<section class="${r.status}"><h2>${esc(r.entity)} — batch ${esc(r.batch)} — <span class="status">${r.status}</span></h2>
<p>${esc(r.file)} (${esc(r.format)}), validated ${esc(r.validated_at)}: ${num(r.rows_read)} rows read = ${num(r.imported)} imported + ${num(r.duplicates)} duplicates + ${num(r.quarantined)} quarantined; anomaly rate ${(r.anomaly_rate * 100).toFixed(2)}%${r.previous_batch ? `; compared with batch ${esc(r.previous_batch)}` : ''}${r.schema_inferred ? '; schema inferred from this batch' : ''}.</p>
${r.reasons.length ? `<ul class="reasons">${r.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}${r.accepted_reason ? `<p>Accepted: ${esc(r.accepted_reason)}</p>` : ''}
${r.anomalies.length ? `<h3>Anomalies</h3><table><tr><th>code</th><th>field</th><th>rows</th><th>example</th></tr>${r.anomalies.map((a) => `<tr><td>${esc(a.code)}</td><td>${esc(a.field ?? '')}</td><td>${num(a.count)}</td><td>${esc(a.example)}</td></tr>`).join('')}</table>` : ''}
${r.drift.length ? `<h3>Drift</h3><table><tr><th>feature</th><th>metric</th><th>value</th><th>threshold</th></tr>${r.drift.map((d) => `<tr class="${d.exceeded ? 'bad' : ''}"><td>${esc(d.feature)}</td><td>${d.metric === 'linf' ? 'L-infinity' : 'Jensen–Shannon'}</td><td>${d.value.toFixed(4)}</td><td>${d.threshold}</td></tr>`).join('')}</table>` : ''}
${s ? `<h3>Statistics</h3>${statsTable(s)}` : ''}</section>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>deepcut validation report</title><style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
section{border-left:4px solid #4a7;padding-left:1em;margin:2em 0}section.blocked{border-color:#c33}.blocked .status,.bad td{color:#c33;font-weight:bold}</style></head>
<body><h1>deepcut validation report</h1><p>Generated ${esc(generatedAt.toISOString())}. ${records.filter((r) => r.status === 'blocked').length} of ${records.length} batches blocked.</p>${sections.join('\n')}</body></html>\n`;
}

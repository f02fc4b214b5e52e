/**
 * A dependency-free SVG line chart for evaluation reports: several named series over a shared x
 * axis, linear scales from 0, a legend, and axis labels. Text is escaped.
 *
 * @example writeFileSync('curves.svg', lineChartSvg({ title: 'Reward', x: [1, 2], series: [{ name: 'a', y: [1, 3] }] }))
 */
export interface LineChart {
  title: string;
  xLabel?: string;
  yLabel?: string;
  x: readonly number[];
  series: readonly { name: string; y: readonly number[]; dashed?: boolean }[];
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round a positive span up to 1, 2 or 5 × 10^k (tick step). */
function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

export function lineChartSvg(c: LineChart): string {
  for (const s of c.series) if (s.y.length !== c.x.length) throw new Error(`lineChartSvg: series ${s.name} has ${s.y.length} points, x has ${c.x.length}`);
  const W = c.width ?? 720, H = c.height ?? 420;
  const L = 70, R = 190, T = 40, B = 50;
  const xMax = Math.max(1, ...c.x);
  const yTop = Math.max(1e-9, ...c.series.flatMap((s) => s.y));
  const yStep = niceStep(yTop, 5);
  const yMax = Math.ceil(yTop / yStep) * yStep;
  const px = (x: number) => L + (x / xMax) * (W - L - R);
  const py = (y: number) => H - B - (y / yMax) * (H - T - B);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(c.title)}</text>`);
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${+y.toPrecision(6)}</text>`);
  }
  const xStep = niceStep(xMax, 7);
  for (let x = 0; x <= xMax + 1e-9; x += xStep) out.push(`<text x="${px(x).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${+x.toPrecision(6)}</text>`);
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="black"/>`);
  if (c.xLabel) out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  if (c.yLabel) out.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.y.map((y, j) => `${px(c.x[j]).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts}"/>`);
    const ly = T + 10 + i * 20;
    out.push(`<line x1="${W - R + 12}" x2="${W - R + 36}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${W - R + 42}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

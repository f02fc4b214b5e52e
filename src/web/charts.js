// Charts through uPlot (from the package, /web/vendor/uplot.js): time series over days and bars.
import uPlot from '/web/vendor/uplot.js';

const COLOURS = ['#1db954', '#4ea1ff', '#e0a526', '#d35db3', '#9d8cff', '#ff7a59', '#5fd3c6', '#c0c0c0', '#ffd166'];

function ensureCss() {
  if (document.querySelector('link[data-uplot]')) return;
  const l = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/web/vendor/uplot.css' });
  l.dataset.uplot = '1';
  document.head.append(l);
}

const width = (el) => Math.max(300, Math.min(el.clientWidth || 420, 900, window.innerWidth - 48));

/**
 * Lines (or bars with `bars`) over string x labels (days, runs): `series` = [{ label, values, scale? }].
 * Values format with grouping, never in scientific notation.
 */
export function barSeries(el, labels, series, { height = 200, bars = true, yLabel = '' } = {}) {
  ensureCss();
  const xs = labels.map((_, i) => i);
  const fmt = (v) => (v === null || v === undefined ? '—' : Math.abs(v) >= 100 || Number.isInteger(v) ? Math.round(v).toLocaleString('en-US') : v.toFixed(3));
  const opts = {
    width: width(el),
    height,
    scales: { x: { time: false } },
    axes: [
      { values: (_u, ticks) => ticks.map((t) => labels[t] ?? ''), stroke: '#9aa0ab', grid: { stroke: '#262a33' } },
      { values: (_u, ticks) => ticks.map(fmt), stroke: '#9aa0ab', grid: { stroke: '#262a33' }, label: yLabel, size: 60 },
    ],
    series: [
      { label: 'x', value: (_u, v) => labels[v] ?? '' },
      ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], fill: bars ? COLOURS[i % COLOURS.length] + '55' : undefined, width: 2, value: (_u, v) => fmt(v), paths: bars && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined, points: { show: labels.length < 3 } })),
    ],
  };
  return new uPlot(opts, [xs, ...series.map((s) => s.values)], el);
}

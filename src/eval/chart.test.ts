import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineChartSvg } from './chart.ts';

test('lineChartSvg: one polyline per series, escaped text, points on the axes', () => {
  const svg = lineChartSvg({ title: 'A <b> & "c"', x: [0, 1, 2], series: [{ name: 'up', y: [0, 5, 10] }, { name: 'flat', y: [2, 2, 2], dashed: true }], width: 400, height: 300 });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="400" height="300"/);
  assert.equal(svg.match(/<polyline /g)?.length, 2);
  assert.ok(svg.includes('A &lt;b&gt; &amp; &quot;c&quot;'));
  // plot area x from 70 to 400 − 190 = 210, y from 300 − 50 = 250 (0) to 40 (10)
  assert.ok(svg.includes('points="70.0,250.0 140.0,145.0 210.0,40.0"'));
  assert.ok(svg.includes('stroke-dasharray="6 4" points='));
  assert.throws(() => lineChartSvg({ title: 't', x: [0, 1], series: [{ name: 's', y: [1] }] }), /lineChartSvg: series s has 1 points, x has 2/);
});

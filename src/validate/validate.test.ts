import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Listen } from '../domain/schemas.ts';
import { Rng } from '../util/rng.ts';
import { checkRow, fastListen, KnownIds, type CheckContext } from './rows.ts';
import { BatchStats, HyperLogLog, hashString, histogramOf } from './stats.ts';
import { jensenShannon, lInfinity } from './drift.ts';
import { compileSchema, inferSchema, parseSchemaDoc } from './schema.ts';

const NOW = Date.parse('2024-06-01T00:00:00Z');
function ctx(): CheckContext {
  const known = new KnownIds();
  known.users.add('u1');
  known.tracks.set('t1', 200_000);
  known.tracks.set('derived', 0);
  known.artists.add('a1');
  return { now: NOW, known };
}
const listen = (o: Record<string, unknown> = {}) => ({ listen_id: 'l1', user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 180_000, ...o });

test('fast listen check agrees with the zod schema on seeded random inputs', () => {
  const rng = new Rng(7);
  const pick = <T>(xs: T[]) => (rng.next() < 0.8 ? xs[0] : xs[rng.int(xs.length)]); // mostly valid, so both paths are exercised
  const values = {
    listen_id: ['l1', ' l2 ', '', '   ', 'x'.repeat(513), 5, 'l\u0000', 'l\ud800', undefined],
    user_id: ['u1', ' u1', null, 'u\udc00x', undefined],
    track_id: ['t1', 't2 ', 3, 't\u0000'],
    started_at: ['2024-05-01T12:00:00Z', '2024-05-01 12:00+02:00', '2024-05-01T12:00:00.123+0200', '2024-05-01', '2024-13-45T99:00:00Z', '2024-02-30T12:00:00Z', '2024-05-01T24:00:00Z', '2024-05-01T12:00:00+16:00', '2024-05-01T12:00:00+1559', '2024-05-01T12:00:00-15:60', '2024-05-01T12:60Z', '2024-05-01T12:00:60Z', '2023-02-29T00:00Z', '2024-02-29T23:59:59.999-12:00', '0000-01-01T00:00:00Z', 1714564800, undefined],
    ms_played: [0, 1, 180_000, -1, 1.5, '100', NaN, Infinity, 2 ** 31 - 1, 2 ** 31, 3_000_000_000, 2 ** 53, undefined],
    reason_end: ['trackdone', 'fwdbtn', 'nonsense', null, undefined],
    skipped: [true, false, 'true', null, undefined],
    context: ['search', 7, 'a\u0000b', undefined],
    platform: ['ios', undefined, false, '\ud83d'],
    extra: ['ignored', undefined],
  };
  let fastAccepted = 0;
  for (let i = 0; i < 5000; i++) {
    const v: Record<string, unknown> = {};
    for (const [k, xs] of Object.entries(values)) {
      const x = pick(xs as unknown[]);
      if (x !== undefined) v[k] = x;
    }
    const fast = fastListen(v);
    const slow = Listen.safeParse(v);
    if (fast) {
      fastAccepted++;
      assert.ok(slow.success, `zod rejects what the fast path accepts: ${JSON.stringify(v)}`);
      assert.deepEqual(fast, slow.data);
    } else if (slow.success) {
      // allowed (the fast path may defer to zod) but must not happen for plain rows
      assert.fail(`fast path deferred a valid row: ${JSON.stringify(v)}`);
    }
  }
  assert.ok(fastAccepted > 50, `only ${fastAccepted} random rows were valid`);
});

test('row checks: schema, ranges, duration, clock, foreign ids — each names its field', () => {
  const c = ctx();
  assert.equal(checkRow('listens', listen(), c).ok, true);
  const cases: [Record<string, unknown>, string, string, RegExp][] = [
    [listen({ ms_played: -5 }), 'ms_played', 'out_of_range', /expected number to be >=0, got -5/],
    [listen({ ms_played: '5' }), 'ms_played', 'wrong_type', /expected number/],
    [listen({ user_id: undefined }), 'user_id', 'missing', /required field is missing/],
    [listen({ reason_end: 'nope' }), 'reason_end', 'unknown_enum', /"nope"/],
    [listen({ ms_played: 900_000 }), 'ms_played', 'out_of_range', /^900000 ms played is far beyond the track's duration of 200000 ms$/],
    [listen({ started_at: '2024-06-02T00:00:00Z' }), 'started_at', 'out_of_range', /^2024-06-02T00:00:00Z is in the future \(now is 2024-06-01T00:00:00.000Z\)$/],
    [listen({ started_at: '1999-12-31T23:59:59Z' }), 'started_at', 'out_of_range', /before 2000-01-01/],
    [listen({ track_id: 't9' }), 'track_id', 'unknown_id', /^track "t9" is neither in the store nor earlier in this import$/],
    [listen({ user_id: 'u9' }), 'user_id', 'unknown_id', /user "u9"/],
  ];
  for (const [row, field, code, reason] of cases) {
    const r = checkRow('listens', row, c);
    assert.equal(r.ok, false, JSON.stringify(row));
    if (!r.ok) {
      assert.equal(r.field, field);
      assert.equal(r.code, code);
      assert.match(r.reason, reason);
    }
  }
  assert.equal(checkRow('listens', listen({ track_id: 'derived', ms_played: 5_000_000 }), c).ok, true, 'no duration check for a placeholder duration');
  const t = checkRow('tracks', { track_id: 't2', title: 'x', artist_ids: ['a1', 'a2'], duration_ms: 1, release_date: '2020-01-01' }, c);
  assert.deepEqual(t.ok ? null : [t.field, t.code], ['artist_ids', 'unknown_id']);
});

test('schema domains: an inferred domain rejects a new value as unknown_enum', () => {
  const s = new BatchStats('listens');
  for (let i = 0; i < 100; i++) s.add({ ...Listen.parse(listen({ listen_id: `l${i}` })), platform: i % 2 ? 'ios' : 'android' });
  const doc = inferSchema(s.finish(), 'b1', new Date(NOW));
  const platform = doc.features.find((f) => f.name === 'platform')!;
  assert.deepEqual(platform.domain, ['android', 'ios']);
  assert.deepEqual(platform.drift, { metric: 'linf' });
  assert.equal(doc.features.find((f) => f.name === 'listen_id')!.drift, undefined, 'ids are not compared for drift');
  assert.equal(doc.features.find((f) => f.name === 'ms_played')!.drift?.metric, 'jsd');
  const c = { ...ctx(), schema: compileSchema(doc) };
  const r = checkRow('listens', listen({ platform: 'web' }), c);
  assert.deepEqual(r.ok ? null : [r.field, r.code], ['platform', 'unknown_enum']);
  assert.throws(() => parseSchemaDoc({ ...doc, features: [{ name: 'nope', kind: 'numeric', min_fraction: 0 }] }, 's.json'), /s.json: field features: nope is not a field of listens/);
  assert.throws(() => parseSchemaDoc({ ...doc, version: 2 }, 's.json'), /s.json: field version: /);
});

test('statistics: counts, missing, distinct, moments, quantiles, top values', () => {
  const s = new BatchStats('listens', 1000, 3);
  for (let i = 0; i < 10_000; i++) s.add({ ...Listen.parse(listen({ listen_id: `l${i}`, ms_played: i })), context: i % 4 === 0 ? 'search' : 'library' });
  const st = s.finish();
  assert.equal(st.rows, 10_000);
  const ms = st.features.find((f) => f.name === 'ms_played')!;
  assert.equal(ms.count, 10_000);
  assert.equal(ms.min, 0);
  assert.equal(ms.max, 9999);
  assert.ok(Math.abs(ms.mean! - 4999.5) < 1e-6);
  assert.ok(Math.abs(ms.std! - 2886.89568) < 1e-3);
  const median = ms.quantiles!.find((q) => q.p === 0.5)!.value;
  assert.ok(Math.abs(median - 5000) < 500, `reservoir median ${median}`);
  assert.ok(Math.abs(ms.distinct - 10_000) < 500, `HLL distinct ${ms.distinct}`);
  assert.ok(Math.abs(ms.histogram!.counts.reduce((a, b) => a + b, 0) - 10_000) < 1e-6);
  const context = st.features.find((f) => f.name === 'context')!;
  assert.deepEqual(context.top, [{ value: 'library', count: 7500 }, { value: 'search', count: 2500 }]);
  assert.equal(context.distinct, 2);
  const hll = new HyperLogLog();
  for (let i = 0; i < 100_000; i++) hll.add(hashString(`id-${i}`));
  assert.ok(Math.abs(hll.estimate() / 100_000 - 1) < 0.05, `HLL ${hll.estimate()}`);
});

test('drift: Jensen–Shannon and L-infinity on known distributions', () => {
  assert.equal(jensenShannon([1, 0], [0, 1]), 1);
  assert.equal(jensenShannon([3, 1], [6, 2]), 0);
  // JSD([.5,.5],[1,0]) = 1.5 - 0.75·log2(3) ≈ 0.311278
  assert.ok(Math.abs(jensenShannon([1, 1], [1, 0]) - (1.5 - 0.75 * Math.log2(3))) < 1e-12);
  const f = (top: [string, number][]) => ({ name: 'x', kind: 'categorical' as const, count: top.reduce((s, t) => s + t[1], 0), missing: 0, distinct: top.length, top: top.map(([value, count]) => ({ value, count })) });
  assert.ok(Math.abs(lInfinity(f([['a', 50], ['b', 50]]), f([['a', 80], ['b', 20]])) - 0.3) < 1e-12);
  assert.equal(lInfinity(f([['a', 1]]), f([['b', 1]])), 1);
  assert.deepEqual(histogramOf([0, 1, 2, 10, -1, 11], [0, 5, 10]).counts, [1, 3, 1, 1]);
});

test('HTML report: status, reasons and anomalies, escaped', async () => {
  const { renderReport } = await import('./report.ts');
  const s = new BatchStats('listens');
  s.add(Listen.parse(listen()));
  const html = renderReport(
    [{ batch: 'b1.listens', entity: 'listens', format: 'jsonl', file: '<x>.jsonl', status: 'blocked', reasons: ['20.0% of 100 rows are anomalies'], rows_read: 100, imported: 80, duplicates: 0, quarantined: 20, anomaly_rate: 0.2, anomalies: [{ code: 'unknown_enum', field: 'platform', count: 20, example: 'line 3: "web"' }], drift: [], schema_inferred: false, validated_at: '2024-06-01T00:00:00Z' }],
    new Map([['b1.listens', s.finish()]]),
    new Date(NOW),
  );
  assert.match(html, /<span class="status">blocked<\/span>/);
  assert.match(html, /&lt;x&gt;\.jsonl/);
  assert.match(html, /<li>20\.0% of 100 rows are anomalies<\/li>/);
  assert.match(html, /<td>unknown_enum<\/td><td>platform<\/td><td>20<\/td>/);
  assert.match(html, /<td>ms_played<\/td><td>numeric<\/td><td>1<\/td>/);
});

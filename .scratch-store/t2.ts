import { DuckDBInstance, DuckDBDataChunk, VARCHAR, INTEGER, BOOLEAN } from '@duckdb/node-api';
import { rmSync } from 'node:fs';
rmSync('/tmp/sx/b.duckdb', { force: true }); rmSync('/tmp/sx/b.duckdb.wal', { force: true });
const inst = await DuckDBInstance.create('/tmp/sx/b.duckdb');
const c = await inst.connect();
await c.run(`CREATE TABLE listens (listen_id VARCHAR PRIMARY KEY, user_id VARCHAR NOT NULL, track_id VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL, ms_played INTEGER NOT NULL, reason_end VARCHAR NOT NULL, skipped BOOLEAN NOT NULL, context VARCHAR NOT NULL, platform VARCHAR NOT NULL)`);
await c.run(`CREATE TEMP TABLE stage (listen_id VARCHAR, user_id VARCHAR, track_id VARCHAR, started_at VARCHAR, ms_played INTEGER, reason_end VARCHAR, skipped BOOLEAN, context VARCHAR, platform VARCHAR)`);
const N = 1_000_000;
const rows: any[] = [];
const base = Date.UTC(2024, 0, 1);
for (let i = 0; i < N; i++) rows.push({ listen_id: 'l' + i, user_id: 'u' + (i % 5000), track_id: 't' + ((i * 7919) % 50000), started_at: new Date(base + i * 1000).toISOString().replace('.000Z', 'Z'), ms_played: i % 300000, reason_end: 'trackdone', skipped: i % 3 === 0, context: 'unknown', platform: 'web' });
const mode = process.argv[2] ?? 'append';
const CH = Number(process.argv[3] ?? 100_000);
let t0 = performance.now(); let ta = 0, ti = 0;
for (let s = 0; s < N; s += CH) {
  const part = rows.slice(s, s + CH);
  let tx = performance.now();
  await c.run('BEGIN');
  if (mode === 'append') {
    const ap = await c.createAppender('stage', 'main', 'temp');
    for (const r of part) {
      ap.appendVarchar(r.listen_id); ap.appendVarchar(r.user_id); ap.appendVarchar(r.track_id); ap.appendVarchar(r.started_at);
      ap.appendInteger(r.ms_played); ap.appendVarchar(r.reason_end); ap.appendBoolean(r.skipped); ap.appendVarchar(r.context); ap.appendVarchar(r.platform); ap.endRow();
    }
    ap.closeSync();
  } else {
    const ap = await c.createAppender('stage', 'main', 'temp');
    const types = [VARCHAR, VARCHAR, VARCHAR, VARCHAR, INTEGER, VARCHAR, BOOLEAN, VARCHAR, VARCHAR];
    const keys = ['listen_id','user_id','track_id','started_at','ms_played','reason_end','skipped','context','platform'];
    for (let o = 0; o < part.length; o += 2048) {
      const sub = part.slice(o, o + 2048);
      const chunk = DuckDBDataChunk.create(types, sub.length);
      chunk.setColumns(keys.map(k => sub.map((r: any) => r[k])));
      ap.appendDataChunk(chunk);
    }
    ap.closeSync();
  }
  ta += performance.now() - tx; tx = performance.now();
  const r = await c.run(`INSERT INTO listens SELECT listen_id, user_id, track_id, started_at::TIMESTAMPTZ, ms_played, reason_end, skipped, context, platform FROM stage ON CONFLICT DO NOTHING`);
  await c.run('DELETE FROM stage');
  await c.run('COMMIT');
  ti += performance.now() - tx;
}
console.log('append', ta/1000, 'insert', ti/1000);
console.log(mode, 'load', (performance.now() - t0) / 1000);
t0 = performance.now();
const res = await c.stream(`WITH u AS (SELECT user_id, (row_number() OVER (ORDER BY user_id) - 1)::INTEGER AS r FROM (SELECT DISTINCT user_id FROM listens)) SELECT count(*) FROM u`);
console.log((await res.getRows()), (performance.now() - t0)/1000);
t0 = performance.now();
const q = `WITH u AS (SELECT user_id, (row_number() OVER (ORDER BY user_id) - 1)::INTEGER AS r FROM (SELECT DISTINCT user_id FROM listens)),
 t AS (SELECT track_id, (row_number() OVER (ORDER BY track_id) - 1)::INTEGER AS r FROM (SELECT DISTINCT track_id FROM listens))
 SELECT u.r AS u, t.r AS t, ms_played, epoch_ms(started_at)::DOUBLE AS s, skipped::UTINYINT AS k FROM listens l JOIN u USING (user_id) JOIN t USING (track_id) ORDER BY ${process.argv[4] ?? 'started_at, listen_id'}`;
const st = await c.stream(q);
const user = new Int32Array(N), track = new Int32Array(N), ms = new Int32Array(N), sa = new Float64Array(N), sk = new Uint8Array(N);
let n = 0;
for (;;) {
  const ch = await st.fetchChunk(); if (!ch || ch.rowCount === 0) break;
  const m = ch.rowCount;
  user.set((ch.getColumnVector(0) as any).items.subarray(0, m), n);
  track.set((ch.getColumnVector(1) as any).items.subarray(0, m), n);
  ms.set((ch.getColumnVector(2) as any).items.subarray(0, m), n);
  sa.set((ch.getColumnVector(3) as any).items.subarray(0, m), n);
  const kv = ch.getColumnVector(4) as any; for (let i = 0; i < m; i++) sk[n + i] = kv.getItem(i);
  n += m;
}
console.log('read', n, (performance.now() - t0) / 1000, user[5], sa[5]);
console.log(process.resourceUsage().maxRSS/1024);

/**
 * The schedulers' leader lock on the machine's PostgreSQL: one holder per schema, the others
 * refused until it lets go (or its session ends), and schemas that never contend. Under CI=true
 * PostgreSQL must answer; elsewhere the file is skipped with the reason printed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { pgDown, pgSchema } from '../store/testing/postgres.ts';
import pg from 'pg';
import { LeaderLock } from './leader.ts';

const down = await pgDown();
if (down && process.env.CI === 'true') throw new Error(`CI=true and ${down}`);
if (down) console.log(`# skipped: ${down}`);

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

test('one holder per schema; the next takes over when it lets go; other schemas never contend', { skip: down }, async () => {
  const [a, b] = [await pgSchema('deepcut_leader'), await pgSchema('deepcut_leader')];
  cleanup.push(a.drop, b.drop);
  const locks = [new LeaderLock(a.databaseUrl), new LeaderLock(a.databaseUrl), new LeaderLock(b.databaseUrl)];
  cleanup.push(...locks.map((l) => () => l.close()));
  assert.equal(await locks[0].tryAcquire(), true);
  assert.equal(await locks[1].tryAcquire(), false);
  assert.equal(await locks[2].tryAcquire(), true, 'another schema has its own lock');
  const waiting = locks[1].acquire(20);
  await locks[0].close();
  assert.equal(await waiting, true);
  assert.equal(locks[1].isLeader, true);
  const stop = new AbortController();
  const refused = locks[0].acquire(20, stop.signal);
  setTimeout(() => stop.abort(), 200);
  assert.equal(await refused, false, 'a standby stops waiting when aborted');

  // the holder's session ended by the server: it hears that it is no longer the leader, and another takes the lock
  const lost = new Promise<string>((res) => locks[1].onLost(res));
  const admin = new pg.Client({ connectionString: a.databaseUrl });
  await admin.connect();
  cleanup.push(() => admin.end());
  const holder = await admin.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND objid = ((hashtext('deepcut-scheduler:' || current_schema())::bigint & 4294967295)::text)::oid");
  assert.equal(holder.rows.length, 1);
  await admin.query('SELECT pg_terminate_backend($1)', [holder.rows[0].pid]);
  assert.match(await lost, /connection/);
  assert.equal(locks[1].isLeader, false);
  assert.equal(await locks[0].acquire(20), true);
});

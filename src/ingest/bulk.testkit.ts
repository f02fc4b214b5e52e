/**
 * Files for the bulk import tests: a catalog, and listens / interactions files that mix good rows
 * with every kind of bad one, so the bulk and streaming paths can be compared row for row.
 */
import type { Store } from '../store/index.ts';
import { jl } from './import.testkit.ts';

export const NOW = new Date('2024-06-01T00:00:00Z');

export const catalog = {
  'artists.jsonl': jl([{ artist_id: 'a1', name: 'Alpha' }]),
  'tracks.jsonl': jl([
    { track_id: 't1', title: 'One', artist_ids: ['a1'], duration_ms: 200000, release_date: '2020-01-01' },
    { track_id: 't2', title: 'Two', artist_ids: ['a1'], duration_ms: 100000, release_date: '1900-01-01' },
  ]),
  'users.jsonl': jl([{ user_id: 'u1' }, { user_id: 'u2' }]),
};

/** The catalog files' names, in import order. */
export const CATALOG_FILES = ['artists.jsonl', 'tracks.jsonl', 'users.jsonl'];

const L = (id: unknown, o: object = {}) => ({ listen_id: id, user_id: 'u1', track_id: 't1', started_at: '2024-05-01T12:00:00Z', ms_played: 180000, ...o });

/** Listens: good rows and, among them, one of every kind of bad row (and of rows only the one-by-one check can accept). */
export function mixedListens(): string {
  const rows: string[] = [];
  for (let i = 0; i < 30; i++) rows.push(JSON.stringify(L(`g${i}`, { user_id: i % 2 ? 'u1' : 'u2', track_id: i % 3 ? 't1' : 't2', ms_played: 1000 * i, skipped: i % 4 === 0, reason_end: i % 2 ? 'trackdone' : 'fwdbtn', platform: 'ios', context: `ctx${i % 3}` })));
  rows.push(
    JSON.stringify(L('g1')), // duplicate of a plain row
    '',
    '   ',
    '{"listen_id": "broken", ',
    '[1, 2]',
    '"text"',
    'null',
    JSON.stringify(L(42)),
    JSON.stringify(L('s1', { ms_played: '180000' })),
    JSON.stringify(L('s2', { ms_played: -3 })),
    JSON.stringify(L('s3', { ms_played: 2 ** 31 })),
    JSON.stringify(L('s4', { ms_played: 1.5 })),
    JSON.stringify(L('s5', { ms_played: 1.0 })).replace('"ms_played":1', '"ms_played":1.0'), // an integer written 1.0: accepted
    JSON.stringify(L('s6', { ms_played: null })),
    JSON.stringify({ listen_id: 's7', user_id: 'u1', track_id: 't1', ms_played: 5 }),
    JSON.stringify(L('s8', { started_at: '2024-05-01T12:00Z' })), // no seconds: accepted
    JSON.stringify(L('s9', { started_at: '2024-05-01 12:00:00+0200' })), // accepted
    JSON.stringify(L('s10', { started_at: '2024-02-30T12:00:00Z' })),
    JSON.stringify(L('s11', { started_at: '1999-12-31T23:59:59Z' })),
    JSON.stringify(L('s12', { started_at: '2030-01-01T00:00:00Z' })),
    JSON.stringify(L('s13', { started_at: '2024-05-01T12:00:00.1234567+01:00' })), // more than µs: accepted
    JSON.stringify(L('s14', { user_id: 'nobody' })),
    JSON.stringify(L('s15', { track_id: 'nothing' })),
    JSON.stringify(L('s16', { ms_played: 900000 })), // beyond 3× the track's length
    JSON.stringify(L('s17', { track_id: 't2', ms_played: 900000 })), // the track's length is a placeholder: accepted
    JSON.stringify(L('s18', { reason_end: 'bored' })),
    JSON.stringify(L('s19', { skipped: 'yes' })),
    JSON.stringify(L(' s20 ')), // trimmed: accepted as s20
    JSON.stringify(L('s20')), // then a duplicate of it
    JSON.stringify(L('s21', { context: 'caf\u00e9' })).replace('é', '\\u00e9'), // an escape: accepted
    JSON.stringify(L('s22', { context: 'a\u0000b' })),
    JSON.stringify(L('s23', { platform: 'web', extra: { deep: [1] } })), // unknown keys are dropped
    JSON.stringify(L('', {})),
    JSON.stringify(L('s25', { listen_id: 'x'.repeat(600) })),
    JSON.stringify(L('s26', { context: 'Björk' })),
  );
  return rows.join('\n') + '\n' + '{"listen_id":"cut","user_id":"u1"'; // the last line is cut short
}

/** Interactions: a header, good rows and bad ones. */
export function mixedInteractions(): string {
  const rows = ['user,item,weight,timestamp'];
  for (let i = 0; i < 20; i++) rows.push(`u${i % 4},i${i},${(i % 5) + 1}${i % 2 ? '.5' : ''},${i % 3 ? 1714560000 + i : ''}`);
  rows.push(
    'u1,i1,3', // duplicate key (u1 track i1)
    '',
    'u9,i9,0',
    'u9,i10,-1',
    'u9,i11,abc',
    'u9,i12,',
    'u9,i13,1e3', // accepted
    '"u,9",i14,2', // a quoted cell: accepted
    'u9,i15',
    'u9,i16,1,2,3',
    'u9,i17,1,2024-05-01T12:00:00Z',
    'u9,i18,1,2030-01-01T00:00:00Z',
    'u9,i19,1,yesterday',
    'u9,i20,1,946684799',
    ' u9 ,i21,1', // trimmed: accepted
    'u9,i22,1,1714560000.123',
  );
  return rows.join('\n') + '\n';
}

/** Listens in deepcut's own CSV: a header with an unknown column, good rows and every kind of bad one. */
export function mixedListensCsv(): string {
  const rows = ['listen_id,user_id,track_id,started_at,ms_played,skipped,platform,note,context'];
  for (let i = 0; i < 20; i++) rows.push(`c${i},u${1 + (i % 2)},t${1 + (i % 2)},2024-05-01T12:00:${String(i).padStart(2, '0')}Z,${1000 * i},${i % 3 ? 'false' : i % 2 ? '1' : 'TRUE'},${i % 2 ? 'ios' : ''},n${i},ctx${i % 3}`);
  rows.push(
    'c1,u1,t1,2024-05-01T12:00:00Z,5,false,ios,n,x', // duplicate key
    '',
    'e1,u1,t1,2024-05-01T12:00:00Z,-5,false,ios,n,x',
    'e2,u1,t1,2024-05-01T12:00:00Z,abc,false,ios,n,x',
    'e3,u1,t1,2024-05-01T12:00:00Z, 7 ,false,ios,n,x', // a number with spaces: accepted
    'e4,u1,t1,2024-05-01T12:00:00Z,1e3,1,ios,n,x', // accepted
    'e5,u1,t1,2024-05-01T12:00:00Z,5,maybe,ios,n,x',
    'e6,u1,t1,2024-05-01 12:00:00+02:00,5,false,ios,n,x', // accepted
    'e7,u1,t1,2030-01-01T00:00:00Z,5,false,ios,n,x',
    'e8,nobody,t1,2024-05-01T12:00:00Z,5,false,ios,n,x',
    'e9,u1,t1,2024-05-01T12:00:00Z,5,false,ios',
    'e10,u1,t1,2024-05-01T12:00:00Z,5,false,ios,n,x,extra',
    '"e11",u1,t1,2024-05-01T12:00:00Z,5,false,ios,"a, b",x', // quoted cells: accepted
    ' e12 ,u1,t1,2024-05-01T12:00:00Z,5,false,ios,n,x', // trimmed: accepted
    ',u1,t1,2024-05-01T12:00:00Z,5,false,ios,n,x',
    'e14,u1,t1,,5,false,ios,n,x',
    'e15,u1,t1,2024-05-01T12:00:00Z,5,false,ios,n,Björk',
  );
  return rows.join('\n') + '\n';
}

/** A HetRec Last.fm folder whose user_artists.dat mixes good rows with bad ones (users seen first in good and in bad rows). */
export function mixedHetrec(): Record<string, string> {
  const rows = ['userID\tartistID\tweight'];
  for (let i = 0; i < 20; i++) rows.push(`${2 + (i % 4)}\t${50 + i}\t${100 * i + 1}`);
  rows.push(
    '9\t51\tmany', // the first line of user 9: its user is made, the interaction quarantined
    '9\t52\t12',
    '2\t50\t7', // duplicate key
    'x\t53\t1',
    '3\t54',
    '',
    ' 7 \t55\t 3 ', // spaces: accepted
    '8\t56\t-1',
    '8\t57\t',
    '6\t58\t2\textra', // an extra column is ignored
    '10\t59\t1e2', // accepted
  );
  return {
    'artists.dat': 'id\tname\turl\tpictureURL\n50\tA\thttp://a\thttp://a.jpg\n',
    'user_artists.dat': rows.join('\n') + '\n',
  };
}

/** Every row of `kind`, in key order. */
export function bulkRows(store: Store, kind: 'listens' | 'interactions'): Promise<unknown[]> {
  return store.list(kind);
}

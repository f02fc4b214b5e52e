/**
 * The Open Bandit Dataset (Saito et al., NeurIPS 2021 Datasets and Benchmarks; ZOZOTOWN's fashion
 * recommendation widget with 3 positions): logged bandit feedback as deepcut impressions.
 *
 * Layout (as the authors ship it): `<root>/<policy>/<campaign>/<campaign>.csv` (or `.csv.gz`), with
 * `<policy>` `random` or `bts` and `<campaign>` `all`, `men` or `women`; `<root>` may be the whole
 * tree, one policy's folder, one campaign's folder or one file. Columns: an unnamed row index,
 * `timestamp`, `item_id`, `position` (1–3), `click` (0/1), `propensity_score`,
 * `user_feature_0..3` (hashed categories) and `user-item_affinity_<item>` (one per item).
 *
 * One row is one impression (OBP treats every row as a round of its own):
 * - request `obd:<policy>:<campaign>:<row index>`, slot = position − 1 (deepcut's slots count from 0);
 * - card = the item id, shelf `obd:<campaign>` (the widget), policy `obd:<policy>`;
 * - propensity = `propensity_score` (the logging policy's marginal probability of the item at that
 *   position), reward = `click`, shown_at = `timestamp`;
 * - user: the dataset has no user ids, so the user is the user-feature profile,
 *   `obd:user:<hash of user_feature_0..3>` (a `users` row, zone Asia/Tokyo, made on first sight);
 * - features: `{"user_feature_0": …, …, "affinity": {"<item>": value, …}}` (non-zero affinities only).
 * Validation compares a file's batch with earlier batches of the same policy and campaign (source
 * `open-bandit:<policy>:<campaign>`). A row that breaks a rule (a position that is not a positive integer, a click other than 0/1, a
 * propensity outside (0, 1]) is quarantined with its file, line and the field at fault.
 * `item_context.csv` (item features) is not an entity of deepcut's and is not imported.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DeepcutError } from '../../errors.ts';
import { splitCsv } from '../csv.ts';
import type { FileTask, ImportFormat, RecordHandler } from './types.ts';

export const OBD_POLICIES = ['random', 'bts'] as const;
export const OBD_CAMPAIGNS = ['all', 'men', 'women'] as const;

/** One parsed row of an Open Bandit Dataset file. */
export interface ObdRecord {
  /** The file's own row index (first, unnamed column). */
  index: string;
  /** ISO 8601 instant. */
  timestamp: string;
  item: number;
  /** 0-based (the file's position − 1). */
  position: number;
  click: 0 | 1;
  propensity: number;
  /** user_feature_0..3 as given (hashed categories). */
  userFeatures: string[];
  /** Non-zero user–item affinities: item → value. */
  affinity: Map<number, number>;
}

/** Column positions of an OBD header row. */
export interface ObdColumns {
  index: number;
  timestamp: number;
  item: number;
  position: number;
  click: number;
  propensity: number;
  userFeatures: number[];
  /** [column, item] of every `user-item_affinity_<item>` column. */
  affinity: [number, number][];
}

/**
 * Fields whose values differ by file (campaign, policy) or are open-ended: validation infers no
 * value domain for them, or the first file's campaign would make every other file's rows anomalies.
 */
const OPEN_FIELDS = ['request_id', 'user_id', 'shelf', 'card', 'policy', 'features'];

const REQUIRED = ['timestamp', 'item_id', 'position', 'click', 'propensity_score'] as const;

/** The columns of a header row, or the first required column it lacks. */
export function obdColumns(header: string[]): ObdColumns | { missing: string } {
  const at = (name: string) => header.findIndex((h) => h.trim() === name);
  for (const r of REQUIRED) if (at(r) < 0) return { missing: r };
  const userFeatures: number[] = [];
  const affinity: [number, number][] = [];
  header.forEach((h, i) => {
    const name = h.trim();
    if (/^user_feature_\d+$/.test(name)) userFeatures.push(i);
    const m = /^user-item_affinity_(\d+)$/.exec(name);
    if (m) affinity.push([i, Number(m[1])]);
  });
  return { index: header[0].trim() === '' ? 0 : -1, timestamp: at('timestamp'), item: at('item_id'), position: at('position'), click: at('click'), propensity: at('propensity_score'), userFeatures, affinity };
}

/** `2019-11-24 00:03:13.442536+00:00` → `2019-11-24T00:03:13.442536+00:00`. */
const isoOf = (ts: string) => ts.trim().replace(' ', 'T');

/** One data row, or the field at fault and why. `line` names the row when the file has no index column. */
export function obdRecord(c: string[], cols: ObdColumns, line: number): ObdRecord | { field: string; reason: string } {
  const need = Math.max(cols.timestamp, cols.item, cols.position, cols.click, cols.propensity, ...cols.userFeatures, ...cols.affinity.map((a) => a[0]));
  if (c.length <= need) return { field: 'row', reason: `${c.length} columns, the header names ${need + 1} or more` };
  const item = c[cols.item].trim();
  if (!/^\d+$/.test(item)) return { field: 'item_id', reason: `item_id must be a non-negative integer, got ${JSON.stringify(item)}` };
  const pos = c[cols.position].trim();
  if (!/^\d+$/.test(pos) || Number(pos) < 1 || Number(pos) > 1000) return { field: 'position', reason: `position must be an integer from 1, got ${JSON.stringify(pos)}` };
  const click = c[cols.click].trim();
  if (click !== '0' && click !== '1') return { field: 'click', reason: `click must be 0 or 1, got ${JSON.stringify(click)}` };
  const p = Number(c[cols.propensity]);
  if (c[cols.propensity].trim() === '' || !(p > 0 && p <= 1)) return { field: 'propensity_score', reason: `propensity_score must be in (0, 1], got ${JSON.stringify(c[cols.propensity])}` };
  const affinity = new Map<number, number>();
  for (const [col, it] of cols.affinity) {
    const v = Number(c[col]);
    if (!Number.isFinite(v)) return { field: `user-item_affinity_${it}`, reason: `affinity must be a number, got ${JSON.stringify(c[col])}` };
    if (v !== 0) affinity.set(it, v);
  }
  return {
    index: cols.index >= 0 ? c[cols.index].trim() : String(line),
    timestamp: isoOf(c[cols.timestamp]),
    item: Number(item),
    position: Number(pos) - 1,
    click: click === '1' ? 1 : 0,
    propensity: p,
    userFeatures: cols.userFeatures.map((i) => c[i].trim()),
    affinity,
  };
}

/** The user id of a user-feature profile. */
export const obdUser = (features: readonly string[]): string => `obd:user:${createHash('sha1').update(features.join('\u0001')).digest('hex').slice(0, 16)}`;

/** Campaign and policy of a data file from its path (`…/<policy>/<campaign>/<campaign>.csv[.gz]`). */
export function obdFileOf(file: string): { policy: string; campaign: string } | undefined {
  const m = /^(all|men|women)\.csv(\.gz)?$/.exec(basename(file));
  if (!m) return undefined;
  const campaign = m[1];
  const dir = dirname(file);
  const policy = basename(dirname(dir));
  if (basename(dir) !== campaign || !(OBD_POLICIES as readonly string[]).includes(policy)) return undefined;
  return { policy, campaign };
}

async function dataFiles(path: string, depth: number): Promise<string[]> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return [];
  if (st.isFile()) return obdFileOf(path) ? [path] : [];
  if (!st.isDirectory() || depth > 3) return [];
  const out: string[] = [];
  for (const name of (await readdir(path)).sort()) out.push(...(await dataFiles(join(path, name), depth + 1)));
  return out;
}

export const openBanditFormat: ImportFormat = {
  name: 'open-bandit',
  description: 'Open Bandit Dataset folder (<policy>/<campaign>/<campaign>.csv[.gz]): logged clicks as impressions with propensity and reward',
  async plan(path, opts) {
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new DeepcutError('not_found', 'no such file or folder', { file: path });
    const files = await dataFiles(path, 0);
    if (files.length === 0) throw new DeepcutError('not_found', 'no Open Bandit Dataset files here (expected <random|bts>/<campaign>/<campaign>.csv or .csv.gz, campaign all, men or women)', { file: path });
    return files.map((file) => {
      const { policy, campaign } = obdFileOf(file)!;
      // each logging policy on each campaign is its own stream for validation: random's constant
      // propensities next to Thompson sampling's spread are two policies, not drift
      return { file, parser: 'open-bandit', entity: 'impressions', framing: 'lines', encoding: opts.encoding ?? 'utf8', context: { policy, campaign }, source: `open-bandit:${policy}:${campaign}`, openFields: OPEN_FIELDS } satisfies FileTask;
    });
  },
};

/** Rows of one OBD file: a users row per new profile, an impression per row. */
export function openBanditHandler(context: Record<string, unknown>): RecordHandler {
  const policy = String(context.policy);
  const campaign = String(context.campaign);
  let header = context.header as string[] | undefined;
  let cols = header ? obdColumns(header) : undefined;
  const users = new Set<string>();
  const readHeader = (text: string): ObdColumns | { missing: string } => {
    header = splitCsv(text, ',') ?? [];
    return (cols = obdColumns(header));
  };
  return {
    record(text, line, out) {
      if (!cols) {
        const h = readHeader(text);
        if ('missing' in h) out.reject('impressions', h.missing, 'missing', `the header row has no ${h.missing} column`);
        return;
      }
      if ('missing' in cols) {
        out.reject('impressions', cols.missing, 'missing', `the header row has no ${cols.missing} column`);
        return;
      }
      const c = splitCsv(text, ',');
      if (!c) {
        out.reject('impressions', null, 'invalid_csv', 'a quoted field is not closed on this line');
        return;
      }
      const r = obdRecord(c, cols, line);
      if ('reason' in r) {
        out.reject('impressions', r.field, r.field === 'row' ? 'invalid_csv' : 'invalid_value', r.reason);
        return;
      }
      const user_id = obdUser(r.userFeatures);
      if (!users.has(user_id)) {
        users.add(user_id);
        out.row('users', { user_id, time_zone: 'Asia/Tokyo' });
      }
      const features: Record<string, unknown> = {};
      cols.userFeatures.forEach((i, k) => (features[header![i].trim()] = r.userFeatures[k]));
      features.affinity = Object.fromEntries(r.affinity);
      out.row('impressions', {
        request_id: `obd:${policy}:${campaign}:${r.index}`,
        user_id,
        shelf: `obd:${campaign}`,
        card: String(r.item),
        slot: r.position,
        policy: `obd:${policy}`,
        propensity: r.propensity,
        shown_at: r.timestamp,
        reward: r.click,
        features: JSON.stringify(features),
      });
    },
    skipped(text) {
      if (!cols) readHeader(text);
    },
    context: () => ({ policy, campaign, header }),
  };
}

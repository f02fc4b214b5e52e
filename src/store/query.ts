/**
 * SQL fragments of `list` shared by the store backends: a half-open time range on an instant
 * column and keyset paging (`after`: rows whose key comes after the given key, in the order `list`
 * returns them). Keyset paging reads each row once however deep the page, where OFFSET re-reads
 * and re-sorts every row before it, so reading a large table page by page stays linear.
 */
import { DeepcutError } from '../errors.ts';
import type { ListOptions } from './store.ts';
import { q, type Column, type Dialect } from './migrations.ts';

/** A key column as `list` orders it: text in byte order (PostgreSQL's "C" collation, DuckDB's default). */
export function orderExpr(d: Dialect, col: Column): string {
  return col.kind === 'text' && d === 'postgres' ? `${q(col.name)} COLLATE "C"` : q(col.name);
}

/**
 * Conditions for `opts.range` and `opts.after` on a table with `cols` keyed by `keys`, with their
 * values appended to `params` (placeholders `$n` numbered after what `params` already holds).
 */
export function listConditions(d: Dialect, cols: readonly Column[], keys: readonly string[], opts: ListOptions, params: unknown[]): string[] {
  const out: string[] = [];
  const column = (name: string): Column => {
    const c = cols.find((x) => x.name === name);
    if (!c) throw new DeepcutError('invalid_input', `unknown column "${name}"; known: ${cols.map((x) => x.name).join(', ')}`);
    return c;
  };
  const param = (v: string, cast?: string) => {
    params.push(v);
    return cast ? `CAST($${params.length} AS ${cast})` : `$${params.length}`;
  };
  if (opts.range) {
    const c = column(opts.range.field);
    if (c.kind !== 'ts') throw new DeepcutError('invalid_input', `range: "${c.name}" is not an instant column`);
    for (const [bound, op] of [[opts.range.from, '>='], [opts.range.until, '<']] as const) {
      if (bound === undefined) continue;
      const t = Date.parse(bound);
      if (Number.isNaN(t)) throw new DeepcutError('invalid_input', `range: "${bound}" is not an ISO 8601 instant`);
      out.push(`${q(c.name)} ${op} ${param(new Date(t).toISOString(), 'TIMESTAMPTZ')}`);
    }
  }
  if (opts.after) {
    if (opts.after.length !== keys.length) throw new DeepcutError('invalid_input', `after: the key is ${keys.join(', ')}; got ${opts.after.length} values`);
    const sides = keys.map((k, i) => {
      const c = column(k);
      const v = opts.after![i];
      if (c.kind === 'int' && !/^-?\d+$/.test(v)) throw new DeepcutError('invalid_input', `after: ${k} must be an integer, got "${v}"`);
      return { left: orderExpr(d, c), right: param(v, c.kind === 'int' ? 'INTEGER' : c.kind === 'text' ? undefined : 'VARCHAR') };
    });
    // (k1, k2, …) > (v1, v2, …), spelled out: k1 > v1 OR (k1 = v1 AND k2 > v2) OR …
    const terms = sides.map((s, i) => [...sides.slice(0, i).map((p) => `${p.left} = ${p.right}`), `${s.left} > ${s.right}`].join(' AND '));
    out.push(`(${terms.map((t) => `(${t})`).join(' OR ')})`);
  }
  return out;
}

/** ` WHERE …` of `listQuarantine` (by batch, and ids after `afterId`), or ''; values appended to `params`. */
export function quarantineWhere(opts: { batch?: string; afterId?: number }, params: unknown[]): string {
  const conds: string[] = [];
  if (opts.batch !== undefined) {
    params.push(opts.batch);
    conds.push(`batch = $${params.length}`);
  }
  if (opts.afterId !== undefined) {
    if (!Number.isSafeInteger(opts.afterId) || opts.afterId < 0) throw new DeepcutError('invalid_input', `afterId must be a non-negative integer, got ${opts.afterId}`);
    conds.push(`id > ${opts.afterId}`);
  }
  return conds.length ? ` WHERE ${conds.join(' AND ')}` : '';
}

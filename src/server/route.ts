/**
 * One declaration per route: method, path, scope, zod schemas for params, query, body and the
 * answer, and the handler. The app registers routes from these declarations and the OpenAPI spec
 * is generated from the same ones, so the spec cannot drift from what the server checks.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DeepcutError } from '../errors.ts';
import type { KeyInfo, Scope } from './auth.ts';
import type { ServerContext } from './context.ts';

export interface HandlerArgs<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  key: KeyInfo;
  req: FastifyRequest;
  reply: FastifyReply;
  ctx: ServerContext;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  /** Scope a key needs; `public` routes need no key and are not rate limited. */
  scope: Scope | 'public';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /**
   * The body as the spec shows it, when `body` is looser on purpose: batch routes check only the
   * envelope with `body` and each row on its own, so one bad row cannot fail the batch.
   */
  bodySpec?: z.ZodType;
  /** Headers on every answer of the route, for the spec: name → description. */
  answerHeaders?: Record<string, string>;
  /** Answers besides 200, for the spec: status → description and schema (a batch's 207). */
  otherAnswers?: Record<string, { description: string; schema: z.ZodType }>;
  /** The 200 answer, for the spec (not checked at run time). */
  response?: z.ZodType;
  /** Content type of the answer when not JSON (spec only). */
  produces?: string;
  handler(a: HandlerArgs<P, Q, B>): Promise<unknown>;
}

/** Declare a route with its types inferred from the schemas. */
export function route<P = Record<string, never>, Q = Record<string, never>, B = undefined>(def: RouteDef<P, Q, B>): RouteDef<P, Q, B> {
  return def;
}

/**
 * Parse `value` with `schema`, or throw `invalid_input` naming up to five offending fields:
 * `body.listens.3.started_at: expected an ISO 8601 timestamp…`.
 */
export function check<T>(schema: z.ZodType<T>, value: unknown, where: 'params' | 'query' | 'body'): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = flattenUnions(r.error.issues);
  const parts = issues.slice(0, 5).map((i) => `${[where, ...i.path].join('.')}: ${i.message}`);
  if (issues.length > 5) parts.push(`… and ${issues.length - 5} more`);
  throw new DeepcutError('invalid_input', parts.join('; '));
}

type Issue = z.core.$ZodIssue;
const depth = (is: readonly Issue[]) => Math.max(0, ...is.map((i) => i.path.length));

/** Replace each union failure by the issues of the branch that got furthest (deepest path). */
function flattenUnions(issues: readonly Issue[], base: PropertyKey[] = []): Issue[] {
  const out: Issue[] = [];
  for (const i of issues) {
    const path = [...base, ...i.path];
    if (i.code === 'invalid_union' && i.errors.length) {
      const best = i.errors.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      out.push(...flattenUnions(best, path));
    } else out.push({ ...i, path } as Issue);
  }
  return out;
}

export const ErrorBody = z.object({
  error: z.object({ code: z.string().describe('one of invalid_input, not_found, unknown_id, conflict, unavailable, unauthorized, forbidden, rate_limited, too_large, internal'), message: z.string() }),
});

/**
 * The OpenAPI 3.1 document, generated from the route declarations (zod → JSON Schema with zod's
 * `z.toJSONSchema`), served at `/openapi.json`.
 */
import { z } from 'zod';
import type { RouteDef } from './route.ts';
import { ErrorBody } from './route.ts';

const json = (s: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

function parameters(s: z.ZodType | undefined, where: 'path' | 'query') {
  if (!s) return [];
  const js = json(s, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, schema]) => ({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema }));
}

/** The spec for `routes`; `version` is the package version. */
export function openApi(routes: readonly RouteDef<any, any, any>[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const err = { description: 'error', content: { 'application/json': { schema: json(ErrorBody, 'output') } } };
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: {
        '200': { description: 'ok', content: { [r.produces ?? 'application/json']: { schema: r.response ? json(r.response, 'output') : {} } } },
        ...Object.fromEntries(Object.entries(r.otherAnswers ?? {}).map(([status, a]) => [status, { description: a.description, content: { 'application/json': { schema: json(a.schema, 'output') } } }])),
        ...(r.body || r.query || r.params ? { '400': err } : {}),
        ...(r.scope !== 'public' ? { '401': err, '403': err } : {}),
        ...(r.scope !== 'public' || r.answerHeaders ? { '429': err } : {}),
        '503': err,
      },
    };
    const responses = op.responses as Record<string, Record<string, unknown>>;
    if (responses['429']) responses['429'] = { ...responses['429'], headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } } };
    responses['503'] = { ...responses['503'], headers: { 'Retry-After': { description: 'present when the failure is transient (the store failed or stalled): seconds to wait before retrying', schema: { type: 'integer' } } } };
    if (r.answerHeaders) for (const [status, a] of Object.entries(responses)) responses[status] = { ...a, headers: { ...((a.headers as object) ?? {}), ...Object.fromEntries(Object.entries(r.answerHeaders).map(([name, description]) => [name, { description, schema: { type: 'integer' } }])) } };
    if (r.scope !== 'public') op.security = [{ bearer: [] }, { token: [] }];
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: json(r.bodySpec ?? r.body, 'input') } } };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'deepcut', version, description: 'Music personalization engine API. Keys: `deepcut keys create --scope read,ingest`; send `Authorization: Bearer <key>` (or `Token <key>`, as ListenBrainz clients do).' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key with the scope the route names' },
        token: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Token <key>`, the ListenBrainz convention' },
      },
    },
    paths,
  };
}

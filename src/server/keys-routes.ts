/**
 * Key management over HTTP (admin scope), so keys can be created and revoked while a server owns
 * the embedded store: `deepcut keys` goes through these when the store is locked. A key revoked
 * here stops working on this server at once (its verifier forgets cached records); other servers
 * sharing a PostgreSQL store stop accepting it within the verifier's cache time (5 s).
 */
import { z } from 'zod';
import { Scope, createKey, listKeys, revokeKey } from './auth.ts';
import { route, type RouteDef } from './route.ts';

const KeyInfo = z.object({ id: z.string(), name: z.string(), scopes: z.array(Scope), user_id: z.string().nullable() });

export function keyRoutes(): RouteDef<any, any, any>[] {
  return [
    route({
      method: 'GET',
      url: '/v1/admin/keys',
      summary: 'API keys (never their secrets), with when each was created and revoked',
      tag: 'admin',
      scope: 'admin',
      response: z.object({ keys: z.array(KeyInfo.extend({ created_at: z.string(), revoked_at: z.string().nullable() })) }),
      async handler({ ctx }) {
        return { keys: await listKeys(ctx.store) };
      },
    }),
    route({
      method: 'POST',
      url: '/v1/admin/keys',
      summary: 'Create an API key; the answer holds the key text, shown this once (only its hash is stored)',
      tag: 'admin',
      scope: 'admin',
      body: z.object({ scopes: z.array(Scope).min(1), name: z.string().min(1).max(200).optional(), user_id: z.string().min(1).max(512).optional() }).strict(),
      response: KeyInfo.extend({ key: z.string() }),
      async handler({ body, ctx }) {
        const r = await createKey(ctx.store, { scopes: [...new Set(body.scopes)], name: body.name, userId: body.user_id });
        return { key: r.key, ...r.info };
      },
    }),
    route({
      method: 'DELETE',
      url: '/v1/admin/keys/:id',
      summary: 'Revoke an API key by id or name; it stops working on this server at once',
      tag: 'admin',
      scope: 'admin',
      params: z.object({ id: z.string().min(1).max(200) }),
      response: z.object({ revoked: KeyInfo }),
      async handler({ params, ctx }) {
        const revoked = await revokeKey(ctx.store, params.id);
        ctx.verifier.clear();
        return { revoked };
      },
    }),
  ];
}

// SPDX-License-Identifier: MIT
// Authentication as one Fastify onRequest hook in front of every route, including routes registered
// later by anyone: a route is admin-only unless its `config.access` says otherwise. 401 without a valid
// credential (the body never says which part was wrong), 429 with Retry-After beyond the key's rate,
// 403 when the key's scope may not use the route.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import { anonymousAdmin, mayUseRoute, type Principal, type RouteAccess } from './access.js';
import type { Authenticator } from './authenticator.js';
import { parseBearer } from './credentials.js';
import type { RateLimiter } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; absent: admin keys only. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The authenticated caller; null on public routes. */
    principal: Principal | null;
  }
}

/** Routes registered by plugins (the API explorer), public without declaring it. */
export const publicRoutePrefixes: readonly string[] = ['/docs'];

export interface AuthHookDeps {
  readonly enabled: boolean;
  readonly authenticator: Authenticator;
  readonly limiter: RateLimiter;
}

export function routeAccess(req: FastifyRequest): RouteAccess {
  const declared = req.routeOptions.config?.access;
  if (declared !== undefined) return declared;
  const url = req.routeOptions.url;
  if (url !== undefined && publicRoutePrefixes.some((p) => url === p || url.startsWith(`${p}/`))) {
    return 'public';
  }
  return 'admin';
}

export function registerAuthHook(app: FastifyInstance, deps: AuthHookDeps): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    const access = routeAccess(req);
    if (access === 'public') return;
    let principal = anonymousAdmin;
    if (deps.enabled) {
      const credential = parseBearer(req.headers.authorization);
      if (credential === undefined) {
        reply.header('www-authenticate', 'Bearer realm="tmiDB"');
        throw new RequestRejectedError('UNAUTHENTICATED', 'send Authorization: Bearer <API key or token>');
      }
      const result = await deps.authenticator.authenticate(credential);
      if (!result.ok) {
        reply.header('www-authenticate', 'Bearer realm="tmiDB", error="invalid_token"');
        throw new RequestRejectedError(result.code, result.detail);
      }
      principal = result.principal;
      const rate = deps.limiter.take(principal.keyId);
      if (!rate.allowed) {
        reply.header('retry-after', String(rate.retryAfterS));
        throw new RequestRejectedError(
          'RATE_LIMITED',
          `this key sent more requests than it may; retry after ${rate.retryAfterS} s`,
        );
      }
    }
    if (!mayUseRoute(access, principal.scope)) {
      throw new RequestRejectedError('FORBIDDEN', `a ${principal.scope} key may not use this route`);
    }
    req.principal = principal;
  });
}

/** The caller of a route that is not public (the hook guarantees one). */
export function principalOfRequest(req: FastifyRequest): Principal {
  if (req.principal === null) throw new Error('no principal on a route that requires one');
  return req.principal;
}

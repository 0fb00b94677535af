// SPDX-License-Identifier: MIT
// The OpenAPI document states every status an operation can answer and how operations chain. Statuses
// that follow from how a route is declared are added here, once, for every route (whoever writes it):
// who may call it (401, 403, 429), what it takes (400 for parameters, 404 and 414 for path parameters,
// 413 and 415 for a body) and that it reaches PostgreSQL or JetStream (503).
import type { RouteOptions } from 'fastify';
import { publicRoutePrefixes } from '../auth/index.js';
import { problemResponses } from '../problem.js';

type RouteSchema = Record<string, unknown> & { response?: Record<string, unknown>; hide?: boolean };

/** The statuses a route can answer because of how it is declared (not what its handler decides). */
export function declaredStatuses(route: Pick<RouteOptions, 'url' | 'config' | 'schema'>): number[] {
  const schema = (route.schema ?? {}) as RouteSchema;
  const access =
    route.config?.access ??
    (publicRoutePrefixes.some((p) => route.url === p || route.url.startsWith(`${p}/`)) ? 'public' : 'admin');
  const statuses = new Set<number>();
  const add = (...some: number[]) => {
    for (const s of some) statuses.add(s);
  };
  if (access !== 'public') add(401, 429, 503);
  if (access !== 'public' && access !== 'authenticated') add(403);
  if (schema.params || schema.querystring || schema.body || schema.headers) add(400);
  if (schema.querystring) add(431); // a long query string (it counts against Node's header limit)
  if (schema.params) add(404, 414);
  if (schema.body) add(400, 413, 415);
  return [...statuses].sort((a, b) => a - b);
}

/** `getV1TargetsId` for GET /v1/targets/:id: the operationId links refer to. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter(Boolean)
    .map((s) =>
      s.replace(/^:/, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string) => (c ?? '').toUpperCase()),
    );
  return [method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

/** An `onRoute` hook (added before @fastify/swagger's): completes the route's documented answers. */
export function documentRoute(route: RouteOptions): void {
  const schema = route.schema as RouteSchema | undefined;
  if (!schema || schema.hide) return;
  const response = { ...(schema.response ?? {}) };
  for (const [status, answer] of Object.entries(problemResponses(...declaredStatuses(route)))) {
    if (!(status in response)) response[status] = answer;
  }
  const method = [route.method].flat()[0] ?? 'GET';
  route.schema = { operationId: operationIdOf(method, route.url), ...schema, response };
}

// SPDX-License-Identifier: MIT
// What Fastify and Node answer on their own — a malformed or over-long URL, headers over Node's limit, a
// method a path does not have — leaves as problem+json with a catalogue code, like every other error.
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ProblemCode } from '../../errors/index.js';
import { type Problem, problem, problemContentType, sendProblem } from '../problem.js';

/** Fastify's `frameworkErrors`: errors raised while routing, before any route runs. */
export function frameworkErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const path = req.url.split('?')[0];
  const [code, detail]: [ProblemCode, string] =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? ['URI_TOO_LONG', 'a path segment is longer than the API accepts']
      : err.code === 'FST_ERR_BAD_URL'
        ? ['INVALID_URL', 'the URL path is not valid percent-encoded UTF-8']
        : ['BAD_REQUEST', 'the request could not be routed'];
  void sendProblem(reply, problem(code, detail, path));
}

/**
 * Fastify's `clientErrorHandler`: Node refused the request before Fastify saw it (headers or request line
 * over `--max-http-header-size`, a request that is not HTTP, a timeout). There is no reply object, so the
 * problem is written to the socket, which then closes (the parser cannot resync).
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const p =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? problem('HEADERS_TOO_LARGE', 'the request line and headers are larger than the server accepts')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? problem('REQUEST_TIMEOUT', 'the request was not received in time')
        : problem('BAD_REQUEST', 'the request is not valid HTTP');
  socket.end(rawResponse(p));
}

function rawResponse(p: Problem): string {
  const body = JSON.stringify(p);
  return [
    `HTTP/1.1 ${p.status} ${p.title}`,
    `Content-Type: ${problemContentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * The routes' paths and their methods, so that a request for a known path with a method it lacks
 * (TRACE, PUT on a collection …) answers 405 with `Allow`, and only an unknown path answers 404.
 */
export class RouteMethods {
  readonly #routes: Array<{ readonly pattern: RegExp; readonly methods: Set<string> }> = [];

  /** Call from an `onRoute` hook. */
  add(url: string, method: string | string[]): void {
    const source = `^${url
      .split('/')
      .map((s) => (s.startsWith(':') ? '[^/]+' : s === '*' ? '.*' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}$`;
    let entry = this.#routes.find((r) => r.pattern.source === source);
    if (!entry) {
      entry = { pattern: new RegExp(source), methods: new Set() };
      this.#routes.push(entry);
    }
    for (const m of [method].flat()) entry.methods.add(m.toUpperCase());
  }

  /** The methods a path has; empty for a path no route matches. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const r of this.#routes) if (r.pattern.test(path)) for (const m of r.methods) methods.add(m);
    return [...methods].sort();
  }
}

/**
 * 405 with `Allow` for a known path asked with a method it lacks — answered in the first `onRequest` hook,
 * before authentication and body parsing, so a bodyless QUERY or TRACE is told the same. Unknown paths
 * go on to the not-found handler (after authentication): 404.
 */
export function registerMethodNotAllowed(app: FastifyInstance, routes: RouteMethods): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.url !== undefined) return; // a route matched
    const path = req.url.split('?')[0] ?? '/';
    const allowed = routes.allowed(path);
    if (allowed.length === 0) return;
    reply.header('allow', allowed.join(', '));
    const detail = `${req.method} is not allowed on ${path}; use ${allowed.join(', ')}`;
    return sendProblem(reply, problem('METHOD_NOT_ALLOWED', detail, path));
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    return sendProblem(reply, problem('ROUTE_NOT_FOUND', `no route ${req.method} ${path}`, path));
  });
}

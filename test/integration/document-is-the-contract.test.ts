// SPDX-License-Identifier: MIT
// Defect 3 of issue 10, one case each: bodies are never coerced, a bodyless POST /v1/tokens is what the
// document allows and `null` is refused, the framework's own refusals (405, 414, 431, a bad URL) are
// problem+json with catalogue codes, and every operation documents 401/403/429/503 as they apply.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTmidb, type TestResponse, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;

beforeAll(async () => {
  t = await startTestTmidb('document_contract', { stages: [] });
});
afterAll(async () => {
  await t?.stop();
});

function expectProblem(res: TestResponse, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body.code).toBe(code);
}

/** A raw request (methods and header sizes fetch refuses to send). */
function raw(method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; contentType: string; body: any; allow?: string }>(
    (resolve, reject) => {
      const url = new URL(path, t.url);
      const req = httpRequest(url, {
        method,
        headers: { authorization: `Bearer ${t.adminKey}`, ...headers },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: text ? JSON.parse(text) : undefined,
            allow: res.headers.allow,
          }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('bodies are taken at their word', () => {
  it.each([
    ['a boolean name', { name: false, kind: 'k' }],
    ['an array name', { name: ['x'], kind: 'k' }],
    ['a number name', { name: 7, kind: 'k' }],
  ])('POST /v1/targets with %s → 400 INVALID_REQUEST, nothing created', async (_what, body) => {
    expectProblem(await t.request('POST', '/v1/targets', body), 400, 'INVALID_REQUEST');
    expect((await t.request('GET', '/v1/targets')).body.targets).toEqual([]);
  });

  it('a listener named false is refused, not called "false"', async () => {
    expectProblem(await t.request('POST', '/v1/listeners', { name: false }), 400, 'INVALID_REQUEST');
    expect((await t.request('GET', '/v1/listeners/false')).status).toBe(404);
  });

  it('query strings are parsed on purpose: limit=2 is the integer 2, limit=two is refused', async () => {
    expect((await t.request('GET', '/v1/targets?limit=2')).status).toBe(200);
    expectProblem(await t.request('GET', '/v1/targets?limit=two'), 400, 'INVALID_REQUEST');
  });

  it('POST /v1/tokens: no body is allowed (and documented so), a null body is refused', async () => {
    expect((await t.request('POST', '/v1/tokens')).status).toBe(201);
    expectProblem(await t.request('POST', '/v1/tokens', 'null'), 400, 'INVALID_REQUEST');
    const doc = (await t.request('GET', '/openapi.json')).body;
    expect(doc.paths['/v1/tokens'].post.requestBody.required).toBe(false);
  });

  it('a key names its listener exactly when it is a listener key — said by the schema', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body;
    const body = doc.paths['/v1/keys'].post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(body.allOf)).toContain('"listener"');
    const res = await t.request('POST', '/v1/keys', { name: 'a', scope: 'admin', listener: 'x' });
    expectProblem(res, 400, 'INVALID_REQUEST');
  });
});

describe('the framework answers in problem+json too', () => {
  it('TRACE on a known path → 405 METHOD_NOT_ALLOWED with Allow; an unknown path → 404', async () => {
    const res = await raw('TRACE', '/v1/targets');
    expect(res.status).toBe(405);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.code).toBe('METHOD_NOT_ALLOWED');
    expect(res.allow?.split(', ')).toEqual(expect.arrayContaining(['GET', 'POST']));
    expectProblem(await t.request('GET', '/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND');
  });

  it('a path segment over the router limit → 414 URI_TOO_LONG', async () => {
    expectProblem(await t.request('GET', `/v1/targets/${'a'.repeat(2000)}`), 414, 'URI_TOO_LONG');
  });

  it('a long but routable path segment reaches its schema → 400', async () => {
    expectProblem(await t.request('GET', `/v1/targets/${'a'.repeat(200)}`), 400, 'INVALID_REQUEST');
  });

  it('headers over the server limit → 431 HEADERS_TOO_LARGE', async () => {
    const res = await raw('GET', '/v1/targets', { 'x-big': 'a'.repeat(20_000) });
    expect(res.status).toBe(431);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.code).toBe('HEADERS_TOO_LARGE');
  });

  it('a path that is not valid percent-encoding → 400 INVALID_URL', async () => {
    expectProblem(await t.request('GET', '/v1/targets/%E0%A4%A'), 400, 'INVALID_URL');
  });
});

describe('the document states every status', () => {
  it('every protected operation documents 401, 429 and 503; admin-only ones 403', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body;
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const public_ = op.security?.length === 0 || ['/healthz', '/tmi/ws'].includes(path);
        if (public_) continue;
        const statuses = Object.keys(op.responses);
        expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['401', '429', '503']));
        if (op.parameters?.some((p: { in: string }) => p.in === 'path')) {
          expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '404', '414']));
        }
        if (op.requestBody) {
          expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '413', '415']));
        }
      }
    }
  });
});

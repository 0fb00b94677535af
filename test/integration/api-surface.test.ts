// SPDX-License-Identifier: MIT
// The read side and the documents around it: targets CRUD with cursor pagination, OpenAPI 3.1 covering
// every route and its error shape, /docs, /healthz and Prometheus /metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('api_surface');
});
afterAll(async () => {
  await t?.stop();
});

describe('targets', () => {
  it('lists by kind with cursor pagination, changes name/meta, deletes with its projections', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.request('POST', '/v1/targets', {
        name: `lamp-${i}`,
        kind: 'lamp',
        meta: { floor: i },
      });
      ids.push(res.body.target_id);
    }
    await t.request('POST', '/v1/targets', { name: 'other', kind: 'door' });
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 5; page++) {
      const res = await t.request('GET', `/v1/targets?kind=lamp&limit=2${after ? `&after=${after}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.targets.map((x: { target_id: string }) => x.target_id));
      after = res.body.next;
      if (!after) break;
    }
    expect(seen.sort()).toEqual([...ids].sort());

    const patched = await t.request('PATCH', `/v1/targets/${ids[0]}`, {
      name: 'lamp-zero',
      meta: { floor: 9 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'lamp-zero', kind: 'lamp', meta: { floor: 9 } });

    await t.request('POST', `/v1/targets/${ids[1]}/events`, { data: { on: true } });
    await eventually(
      'state',
      async () => (await t.request('GET', `/v1/targets/${ids[1]}`)).body.state.on?.value === true,
    );
    expect((await t.request('DELETE', `/v1/targets/${ids[1]}`)).status).toBe(204);
    expect((await t.request('GET', `/v1/targets/${ids[1]}`)).status).toBe(404);
    expect(await t.sql('SELECT 1 FROM tmi.target_state WHERE target_id = $1', [ids[1]])).toHaveLength(0);
    expect((await t.request('DELETE', `/v1/targets/${ids[1]}`)).status).toBe(404);
  });

  it('answers unknown routes, unknown targets and bad ids with problems', async () => {
    const cases: [string, string, number, string][] = [
      ['GET', '/v1/nothing-here', 404, 'ROUTE_NOT_FOUND'],
      ['GET', '/v1/targets/00000000-0000-4000-8000-000000000000', 404, 'TARGET_NOT_FOUND'],
      ['GET', '/v1/targets/not-a-uuid', 400, 'INVALID_REQUEST'],
      ['GET', '/v1/targets?limit=100000', 400, 'INVALID_REQUEST'],
      ['PATCH', '/v1/targets/00000000-0000-4000-8000-000000000000', 404, 'TARGET_NOT_FOUND'],
    ];
    for (const [method, route, status, code] of cases) {
      const res = await t.request(method, route, method === 'PATCH' ? { name: 'x' } : undefined);
      expect(res.status, route).toBe(status);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.code).toBe(code);
    }
  });
});

describe('documents', () => {
  it('/openapi.json is OpenAPI 3.1 titled "tmiDB API" and documents every route with its problem shape', async () => {
    const res = await t.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.info.title).toBe('tmiDB API');
    const paths = res.body.paths as Record<string, Record<string, any>>;
    const expected: [string, string][] = [
      ['/v1/targets', 'post'],
      ['/v1/targets', 'get'],
      ['/v1/targets/{id}', 'get'],
      ['/v1/targets/{id}', 'patch'],
      ['/v1/targets/{id}', 'delete'],
      ['/v1/targets/{id}/events', 'post'],
      ['/v1/events', 'post'],
      ['/v1/targets/{id}/obs', 'get'],
      ['/v1/schemas', 'get'],
      ['/v1/mapping-rules', 'post'],
      ['/healthz', 'get'],
      ['/metrics', 'get'],
    ];
    for (const [path, method] of expected) {
      expect(paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    const write = paths['/v1/targets/{id}/events']!.post;
    expect(write.responses['202']).toBeDefined();
    expect(JSON.stringify(write.responses['409'])).toContain('application/problem+json');
    expect(JSON.stringify(res.body.components)).toContain('"Problem"');
  });

  it('/docs serves the API explorer', async () => {
    const res = await t.request('GET', '/docs/');
    expect(res.status).toBe(200);
    expect(String(res.body)).toContain('swagger');
  });

  it('/healthz reports PostgreSQL and JetStream', async () => {
    const res = await t.request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', postgres: 'ok', jetstream: 'ok' });
  });

  it('/metrics counts accepted events, stage work and consumer lag', async () => {
    const target = await t.request('POST', '/v1/targets', { name: 'm', kind: 'meter' });
    await t.request('POST', `/v1/targets/${target.body.target_id}/events`, [
      { data: { kwh: 1 } },
      { data: { kwh: 2 } },
    ]);
    await eventually('projected', async () => {
      const rows = await t.sql('SELECT 1 FROM tmi.ts_obs WHERE target_id = $1', [target.body.target_id]);
      return rows.length === 2;
    });
    const res = await t.request('GET', '/metrics');
    expect(res.status).toBe(200);
    const text = String(res.body);
    expect(text).toMatch(/tmidb_events_accepted_total\{transport="http"\} [1-9]/);
    expect(text).toMatch(/tmidb_stage_events_processed_total\{stage="project"\} [1-9]/);
    expect(text).toMatch(/tmidb_stage_consumer_pending\{stage="capture"\} \d+/);
    expect(text).toContain('tmidb_stage_events_failed_total');
  });
});

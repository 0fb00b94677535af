// SPDX-License-Identifier: MIT
// Any field name through the whole pipeline: the awkward-name table (Hangul, emoji, `a.b` beside the
// nested {a:{b}}, `a b` beside `a_b`, 128 characters) arrives exactly as written in raw_bucket, ts_obs,
// target_state, the API and a listener's WebSocket frames (the kind's model role is off, so nothing is
// mapped); 129 characters and control characters get a 400 and change nothing; the registry still
// versions the kind and still refuses a type change with 409.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { awkwardNames, refusedNames } from '../support/awkward-names.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';
import { TestWsClient } from '../support/ws-client.js';

let t: TestTmidb;
const open: TestWsClient[] = [];
beforeAll(async () => {
  t = await startTestTmidb('free_field_names');
});
afterAll(async () => {
  for (const c of open) c.terminate();
  await t?.stop();
});

const data: Record<string, unknown> = {
  ...Object.fromEntries(awkwardNames.map((name, i) => [name, i])),
  a: { b: 'nested' },
};

it('carries every awkward name exactly as written, REST → raw_bucket, ts_obs, target_state, API, WebSocket', async () => {
  expect((await t.request('PUT', '/v1/normalize/kinds/awkward', { model_role: 'off' })).status).toBe(200);
  const target = await t.request('POST', '/v1/targets', { name: 'awkward-1', kind: 'awkward' });
  const id = target.body.target_id as string;
  const listener = await t.request('POST', '/v1/listeners', {
    name: 'awkward-listener',
    subscriptions: [{ kind: 'awkward', fields: [...awkwardNames, 'a'] }],
  });
  expect(listener.status, JSON.stringify(listener.body)).toBe(201);
  const key = await t.request('POST', '/v1/keys', {
    name: 'awkward',
    scope: 'listener',
    listener: 'awkward-listener',
  });
  const ws = await TestWsClient.connect(t.url, { token: key.body.key });
  open.push(ws);

  const res = await t.request('POST', `/v1/targets/${id}/events`, { ts: '2026-05-01T00:00:00Z', data });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const eventId = res.body.event_ids[0] as string;

  await eventually('captured and projected', async () => {
    const n = await t.sql<{ n: number }>(
      `SELECT (SELECT count(*) FROM tmi.raw_bucket WHERE event_id = $1) + (SELECT count(*) FROM tmi.ts_obs WHERE event_id = $1) AS n`,
      [eventId],
    );
    return Number(n[0]!.n) === 2;
  });
  const [raw] = await t.sql<{ payload: unknown }>('SELECT payload FROM tmi.raw_bucket WHERE event_id = $1', [
    eventId,
  ]);
  expect(raw!.payload).toEqual(data);
  const [obs] = await t.sql<{ payload: unknown }>('SELECT payload FROM tmi.ts_obs WHERE event_id = $1', [
    eventId,
  ]);
  expect(obs!.payload).toEqual(data);
  const state = await t.sql<{ field: string }>('SELECT field FROM tmi.target_state WHERE target_id = $1', [
    id,
  ]);
  expect(state.map((s) => s.field).sort()).toEqual(Object.keys(data).sort());

  const api = await t.request('GET', `/v1/targets/${id}`);
  expect(Object.keys(api.body.state).sort()).toEqual(Object.keys(data).sort());
  for (const name of awkwardNames) expect(api.body.state[name].value).toBe(data[name]);
  const fields = encodeURIComponent(JSON.stringify(['a.b', 'a b', '온도', '🌡️']));
  const series = await t.request('GET', `/v1/targets/${id}/obs?fields=${fields}`);
  expect(series.status, JSON.stringify(series.body)).toBe(200);
  expect(series.body.rows[0].data).toEqual({
    'a.b': data['a.b'],
    'a b': data['a b'],
    온도: data['온도'],
    '🌡️': data['🌡️'],
  });

  await ws.waitForEvents(1);
  expect(ws.events[0]!.data).toEqual(data);
});

it('refuses a bad name with a 400 and writes nothing', async () => {
  const target = await t.request('POST', '/v1/targets', { name: 'awkward-2', kind: 'awkward' });
  const id = target.body.target_id as string;
  for (const name of refusedNames) {
    const res = await t.request('POST', `/v1/targets/${id}/events`, { data: { ok: 1, [name]: 2 } });
    expect(res.status, JSON.stringify(name)).toBe(400);
    expect(res.body.detail).toMatch(/field name/);
  }
  const rows = await t.sql<{ n: number }>(
    'SELECT count(*)::int AS n FROM tmi.raw_bucket WHERE target_id = $1',
    [id],
  );
  expect(rows[0]!.n).toBe(0);
});

it('versions the kind per new name and refuses a type change with 409', async () => {
  const target = await t.request('POST', '/v1/targets', { name: 'awkward-3', kind: 'awkward_types' });
  const id = target.body.target_id as string;
  expect((await t.request('POST', `/v1/targets/${id}/events`, { data: { 온도: 1 } })).status).toBe(202);
  expect((await t.request('POST', `/v1/targets/${id}/events`, { data: { 온도: 2, 'a.b': 1 } })).status).toBe(
    202,
  );
  const conflict = await t.request('POST', `/v1/targets/${id}/events`, { data: { 온도: 'hot' } });
  expect(conflict.status).toBe(409);
  expect(conflict.body.detail).toMatch(/온도/);
  const versions = await t.request('GET', '/v1/schemas/awkward_types');
  expect(versions.body.versions).toHaveLength(2);
  expect(versions.body.versions[1].schema.fields.map((f: { name: string }) => f.name)).toEqual([
    'a.b',
    '온도',
  ]);
});

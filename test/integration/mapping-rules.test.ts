// SPDX-License-Identifier: MIT
// A mapping rule renames / converts / drops a field for events written after it — and only those.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('mapping_rules');
});
afterAll(async () => {
  await t?.stop();
});

async function write(id: string, ts: string, data: Record<string, unknown>): Promise<string> {
  const res = await t.request('POST', `/v1/targets/${id}/events`, { ts, data });
  expect(res.status).toBe(202);
  return res.body.event_ids[0];
}

async function projected(eventId: string): Promise<Record<string, unknown>> {
  let payload: Record<string, unknown> | undefined;
  await eventually(`event ${eventId} projected`, async () => {
    const rows = await t.sql<{ payload: Record<string, unknown> }>(
      'SELECT payload FROM tmi.ts_obs WHERE event_id = $1',
      [eventId],
    );
    payload = rows[0]?.payload;
    return payload !== undefined;
  });
  return payload!;
}

it('rename, unit conversion and drop apply to events written after the rule, never before', async () => {
  const target = await t.request('POST', '/v1/targets', { name: 'boiler', kind: 'boiler' });
  const id = target.body.target_id;
  const before = await write(id, '2026-05-01T00:00:00Z', { tmp_c: 20, secret: 'x', p: 1 });

  const rules = [
    { kind: 'boiler', field: 'tmp_c', action: 'convert', unit: 'c->f' },
    { kind: 'boiler', field: 'tmp_c', action: 'rename', to_field: 'temp_f', position: 1 },
    { kind: 'boiler', field: 'secret', action: 'drop' },
    { kind: 'boiler', field: 'p', action: 'convert', scale: 100, offset: 0 },
    { kind: 'other_kind', field: 'p', action: 'drop' },
  ];
  for (const rule of rules) {
    const res = await t.request('POST', '/v1/mapping-rules', rule);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  const after = await write(id, '2026-05-01T00:01:00Z', { tmp_c: 100, secret: 'y', p: 2 });

  expect(await projected(before)).toEqual({ tmp_c: 20, secret: 'x', p: 1 });
  expect(await projected(after)).toEqual({ temp_f: 212, p: 200 });
  const raw = await t.sql<{ payload: unknown }>('SELECT payload FROM tmi.raw_bucket WHERE event_id = $1', [
    after,
  ]);
  expect(raw[0]!.payload).toEqual({ tmp_c: 100, secret: 'y', p: 2 });

  const state = await t.request('GET', `/v1/targets/${id}`);
  expect(state.body.state.temp_f.value).toBe(212);
  expect(state.body.state.tmp_c.value).toBe(20);

  // Deleting a rule stops it for later events.
  const list = await t.request('GET', '/v1/mapping-rules');
  const drop = list.body.rules.find(
    (r: { action: string; kind: string }) => r.action === 'drop' && r.kind === 'boiler',
  );
  expect((await t.request('DELETE', `/v1/mapping-rules/${drop.rule_id}`)).status).toBe(204);
  const later = await write(id, '2026-05-01T00:02:00Z', { secret: 'z' });
  expect(await projected(later)).toEqual({ secret: 'z' });
});

it('rejects a bad rule with a 400 that names the problem', async () => {
  const cases = [
    { body: { field: 'x', action: 'rename' }, detail: /to_field/ },
    { body: { field: 'x', action: 'convert', unit: 'furlong->m' }, detail: /c->f/ },
    { body: { field: 'x', action: 'explode' }, detail: /action/ },
    { body: { field: 'bad\u0000name', action: 'drop' }, detail: /field/ },
  ];
  for (const c of cases) {
    const res = await t.request('POST', '/v1/mapping-rules', c.body);
    expect(res.status, JSON.stringify(c.body)).toBe(400);
    expect(res.body.detail).toMatch(c.detail);
  }
});

// SPDX-License-Identifier: MIT
// A speaker's write, through REST and through NATS, lands in raw_bucket, ts_obs, target_state and the
// read API with the right values and types.
import { connect, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, eventually, pipelineCaughtUp, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
let nc: NatsConnection;

beforeAll(async () => {
  t = await startTestTmidb('write_path');
  nc = await connect({ servers: t.env.natsUrl });
});
afterAll(async () => {
  await nc?.close();
  await t?.stop();
});

/** A speaker authenticates on NATS with the header `Authorization: Bearer <key>`. */
function auth() {
  const h = natsHeaders();
  h.set('Authorization', `Bearer ${t.adminKey}`);
  return h;
}

async function createTarget(kind: string, name = 'dev'): Promise<string> {
  const res = await t.request('POST', '/v1/targets', { name, kind, meta: { site: 'lab' } });
  expect(res.status).toBe(201);
  return res.body.target_id;
}

describe('a REST write', () => {
  it('is answered after the PubAck and lands in every projection with its types', async () => {
    const id = await createTarget('thermo');
    const data = {
      temp: 21.5,
      label: 'kitchen',
      on: true,
      engine: { rpm: 900, oil: { ok: false } },
      tags: ['a', 'b'],
      count: 3,
    };
    const res = await t.request('POST', `/v1/targets/${id}/events`, {
      ts: '2026-11-22T10:00:00.123456Z',
      data,
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1);
    const [eventId] = res.body.event_ids;
    expect(res.body.seqs[0]).toBeGreaterThan(0);

    await eventually('the event in ts_obs and raw_bucket', async () => {
      const obs = await t.sql('SELECT 1 FROM tmi.ts_obs WHERE event_id = $1', [eventId]);
      const raw = await t.sql('SELECT 1 FROM tmi.raw_bucket WHERE event_id = $1', [eventId]);
      return obs.length === 1 && raw.length === 1;
    });
    const [raw] = await t.sql<any>(
      'SELECT payload, headers, kind, speaker, occurred_at FROM tmi.raw_bucket WHERE event_id = $1',
      [eventId],
    );
    expect(raw.payload).toEqual(data);
    expect(raw.kind).toBe('thermo');
    expect(raw.speaker).toBe(t.adminKeyId);
    expect(raw.headers.source).toBe('http');
    const [obs] = await t.sql<any>(
      `SELECT payload, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS ts FROM tmi.ts_obs WHERE event_id = $1`,
      [eventId],
    );
    expect(obs.payload).toEqual(data);
    expect(obs.ts).toBe('2026-11-22T10:00:00.123456');

    const got = await t.request('GET', `/v1/targets/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.kind).toBe('thermo');
    expect(got.body.meta).toEqual({ site: 'lab' });
    expect(got.body.state.temp).toEqual({ value: 21.5, ts: '2026-11-22T10:00:00.123456Z' });
    expect(got.body.state.label.value).toBe('kitchen');
    expect(got.body.state.on.value).toBe(true);
    expect(got.body.state.engine.value).toEqual({ rpm: 900, oil: { ok: false } });
    expect(got.body.state.tags.value).toEqual(['a', 'b']);
    expect(typeof got.body.state.count.value).toBe('number');
  });

  it('accepts an array for one target and a batch across targets', async () => {
    const a = await createTarget('thermo', 'a');
    const b = await createTarget('meter', 'b');
    const many = Array.from({ length: 50 }, (_, i) => ({
      ts: 1_790_000_000_000 + i * 1000,
      data: { temp: i },
    }));
    const res = await t.request('POST', `/v1/targets/${a}/events`, many);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(50);
    expect(new Set(res.body.event_ids).size).toBe(50);
    const mixed = await t.request('POST', '/v1/events', [
      { target_id: a, data: { temp: 100 }, ts: 1_790_000_100_000 },
      { target_id: b, data: { kwh: 7.25 } },
    ]);
    expect(mixed.status).toBe(202);
    expect(mixed.body.accepted).toBe(2);
    await eventually('state of both targets', async () => {
      const sa = await t.request('GET', `/v1/targets/${a}`);
      const sb = await t.request('GET', `/v1/targets/${b}`);
      return sa.body.state.temp?.value === 100 && sb.body.state.kwh?.value === 7.25;
    });
    const n = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.ts_obs WHERE target_id = $1', [
      a,
    ]);
    expect(n[0]!.n).toBe(51);
  });

  it('keeps the newest value when a late event arrives after a newer one', async () => {
    const id = await createTarget('thermo');
    await t.request('POST', `/v1/targets/${id}/events`, { ts: '2026-01-01T12:00:00Z', data: { temp: 2 } });
    const late = await t.request('POST', `/v1/targets/${id}/events`, {
      ts: '2026-01-01T11:00:00Z',
      data: { temp: 1, hum: 40 },
    });
    await eventually('the late event projected', async () => {
      const rows = await t.sql('SELECT 1 FROM tmi.ts_obs WHERE event_id = $1', [late.body.event_ids[0]]);
      return rows.length === 1;
    });
    const got = await t.request('GET', `/v1/targets/${id}`);
    expect(got.body.state.temp).toEqual({ value: 2, ts: '2026-01-01T12:00:00.000000Z' });
    expect(got.body.state.hum).toEqual({ value: 40, ts: '2026-01-01T11:00:00.000000Z' });
  });
});

describe('a NATS write on <ns>.speak.<target_id>', () => {
  it('replies {event_id, seq} after the PubAck and projects like REST', async () => {
    const id = await createTarget('thermo');
    const reply = await nc.request(
      `${t.env.namespace}.speak.${id}`,
      JSON.stringify({ data: { temp: 30.25, src: 'nats' } }),
      { timeout: 10_000, headers: auth() },
    );
    const body = reply.json<{ event_id: string; seq: number }>();
    expect(body.seq).toBeGreaterThan(0);
    await eventually('NATS event in target_state', async () => {
      const got = await t.request('GET', `/v1/targets/${id}`);
      return got.body.state.temp?.value === 30.25;
    });
    const [raw] = await t.sql<any>('SELECT speaker, payload FROM tmi.raw_bucket WHERE event_id = $1', [
      body.event_id,
    ]);
    expect(raw.speaker).toBe(t.adminKeyId);
    expect(raw.payload).toEqual({ temp: 30.25, src: 'nats' });
  });

  it('answers an error reply for bad input and writes nothing', async () => {
    const id = await createTarget('thermo');
    await pipelineCaughtUp(t, ['capture']);
    const before = await countRows(t, 'raw_bucket');
    const cases: [string, string, string][] = [
      [`${t.env.namespace}.speak.${id}`, '{not json', 'MALFORMED_JSON'],
      [`${t.env.namespace}.speak.${id}`, JSON.stringify({ data: [1, 2] }), 'INVALID_DATA'],
      [
        `${t.env.namespace}.speak.00000000-0000-4000-8000-000000000000`,
        JSON.stringify({ data: { x: 1 } }),
        'TARGET_NOT_FOUND',
      ],
      [`${t.env.namespace}.speak.not-a-uuid`, JSON.stringify({ data: { x: 1 } }), 'INVALID_TARGET_ID'],
    ];
    for (const [subject, payload, code] of cases) {
      const reply = await nc.request(subject, payload, { timeout: 10_000, headers: auth() });
      const body = reply.json<{ error: { status: number; code: string; detail: string } }>();
      expect(body.error.code, payload).toBe(code);
      expect(body.error.status).toBeGreaterThanOrEqual(400);
      expect(body.error.status).toBeLessThan(500);
      expect(body.error.detail.length).toBeGreaterThan(5);
    }
    // Had any of them reached TMI_IN, it would be captured once capture has caught up.
    await pipelineCaughtUp(t, ['capture']);
    expect(await countRows(t, 'raw_bucket')).toBe(before);
  });
});

// SPDX-License-Identifier: MIT
// Bad input gets a problem+json 4xx that says what is wrong and changes nothing; retries with one
// event_id (or Idempotency-Key) store one event; schemas evolve by versions, and a type change is a 409.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, pipelineCaughtUp, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
let target: string;

const limits = { bodyBytesMax: 64 * 1024, writeEventsMax: 100, eventFieldsMax: 20, stringLengthMax: 100 };

beforeAll(async () => {
  t = await startTestTmidb('write_validation', { config: limits });
  const res = await t.request('POST', '/v1/targets', { name: 'probe', kind: 'probe' });
  target = res.body.target_id;
  // A first good write fixes `temp` as a number in version 1.
  const ok = await t.request('POST', `/v1/targets/${target}/events`, { data: { temp: 1 } });
  expect(ok.status).toBe(202);
  await eventually(
    'first event projected',
    async () => (await t.sql('SELECT 1 FROM tmi.ts_obs')).length === 1,
  );
});
afterAll(async () => {
  await t?.stop();
});

/** What a refused write must not change, read once every stage that could change it has caught up. */
async function snapshot() {
  await pipelineCaughtUp(t, ['capture', 'normalize', 'project']);
  const counts = await t.sql<Record<string, number>>(`SELECT
    (SELECT count(*)::int FROM tmi.raw_bucket) AS raw, (SELECT count(*)::int FROM tmi.ts_obs) AS obs,
    (SELECT count(*)::int FROM tmi.target_state) AS state, (SELECT count(*)::int FROM tmi.model_versions) AS schemas,
    (SELECT count(*)::int FROM tmi.target) AS targets`);
  const jsm = await jetstreamManager(t.runtime.nc);
  const stream = await jsm.streams.info(t.runtime.topology.streams.in.name);
  return { ...counts[0], messages: stream.state.messages };
}

const longString = 'x'.repeat(101);
const manyFields = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, i]));
const bigBody = { data: { blob: 'y'.repeat(90) }, pad: 'z'.repeat(70 * 1024) };

/** Bad writes and the problem each must get. */
const badInputCases: {
  name: string;
  route?: string;
  body: unknown;
  status: number;
  code: string;
  detail: RegExp;
}[] = [
  {
    name: 'malformed JSON',
    body: '{"data": {"temp": 1',
    status: 400,
    code: 'MALFORMED_JSON',
    detail: /not valid JSON/,
  },
  { name: 'empty body', body: '', status: 400, code: 'EMPTY_BODY', detail: /empty/ },
  {
    name: 'unknown target',
    route: '/v1/targets/00000000-0000-4000-8000-000000000000/events',
    body: { data: { temp: 1 } },
    status: 404,
    code: 'TARGET_NOT_FOUND',
    detail: /does not exist/,
  },
  {
    name: 'data is an array',
    body: { data: [1, 2] },
    status: 400,
    code: 'INVALID_DATA',
    detail: /data must be a JSON object/,
  },
  {
    name: 'data is a string',
    body: { data: 'hot' },
    status: 400,
    code: 'INVALID_DATA',
    detail: /got a string/,
  },
  {
    name: 'data missing',
    body: { ts: '2026-01-01T00:00:00Z' },
    status: 400,
    code: 'INVALID_DATA',
    detail: /data must be/,
  },
  {
    name: 'unknown member',
    body: { data: { temp: 1 }, tmp: 1 },
    status: 400,
    code: 'INVALID_EVENT',
    detail: /unknown member/,
  },
  {
    name: 'body over the size limit',
    body: bigBody,
    status: 413,
    code: 'BODY_TOO_LARGE',
    detail: /65536 bytes/,
  },
  {
    name: 'too many events',
    body: Array.from({ length: 101 }, () => ({ data: { temp: 1 } })),
    status: 413,
    code: 'TOO_MANY_EVENTS',
    detail: /at most 100/,
  },
  {
    name: 'too many fields',
    body: { data: manyFields },
    status: 400,
    code: 'INVALID_DATA',
    detail: /fields/,
  },
  {
    name: 'too-long string',
    body: { data: { note: longString } },
    status: 400,
    code: 'INVALID_DATA',
    detail: /100/,
  },
  {
    name: 'timestamp not ISO-8601',
    body: { ts: 'yesterday', data: { temp: 1 } },
    status: 400,
    code: 'INVALID_TIMESTAMP',
    detail: /ISO-8601/,
  },
  {
    name: 'timestamp without zone',
    body: { ts: '2026-01-01T00:00:00', data: { temp: 1 } },
    status: 400,
    code: 'INVALID_TIMESTAMP',
    detail: /time zone/,
  },
  {
    name: 'timestamp impossible date',
    body: { ts: '2026-02-30T00:00:00Z', data: { temp: 1 } },
    status: 400,
    code: 'INVALID_TIMESTAMP',
    detail: /calendar/,
  },
  {
    name: 'timestamp of the wrong type',
    body: { ts: true, data: { temp: 1 } },
    status: 400,
    code: 'INVALID_TIMESTAMP',
    detail: /epoch milliseconds/,
  },
  {
    name: 'event_id not a UUID',
    body: { event_id: 'abc', data: { temp: 1 } },
    status: 400,
    code: 'INVALID_EVENT_ID',
    detail: /UUID/,
  },
  {
    name: 'bad field name',
    body: { data: { 'temp\tc': 1 } },
    status: 400,
    code: 'INVALID_DATA',
    detail: /temp\\tc.*control character/,
  },
  {
    name: 'mixed array',
    body: { data: { xs: [1, 'a'] } },
    status: 400,
    code: 'INVALID_DATA',
    detail: /xs/,
  },
  {
    name: 'type change',
    body: { data: { temp: 'warm' } },
    status: 409,
    code: 'SCHEMA_CONFLICT',
    detail: /temp.*probe.*double.*string/,
  },
  {
    name: 'one bad event in a batch rejects the whole batch',
    body: [{ data: { temp: 5 } }, { data: { temp: 6 } }, { data: 7 }],
    status: 400,
    code: 'INVALID_DATA',
    detail: /events\[2\]/,
  },
  {
    name: 'a conflict in the second event of a batch',
    body: [{ data: { temp: 5, newfield: 1 } }, { data: { temp: 'x' } }],
    status: 409,
    code: 'SCHEMA_CONFLICT',
    detail: /temp/,
  },
];

describe('bad input', () => {
  it.each(badInputCases)('$name → $status $code, nothing written', async (c) => {
    const before = await snapshot();
    const res = await t.request('POST', c.route ?? `/v1/targets/${target}/events`, c.body);
    expect(res.status).toBe(c.status);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.code).toBe(c.code);
    expect(res.body.status).toBe(c.status);
    expect(res.body.title).toBeTruthy();
    expect(res.body.type).toMatch(/^https:\/\//);
    expect(res.body.detail).toMatch(c.detail);
    expect(await snapshot()).toEqual(before);
  });

  it('POST /v1/events with a non-UUID target_id is refused and changes nothing', async () => {
    const before = await snapshot();
    const res = await t.request('POST', '/v1/events', [{ target_id: 'x', data: { temp: 1 } }]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVALID_TARGET_ID');
    expect(await snapshot()).toEqual(before);
  });

  it('a bad target description is a 400 problem', async () => {
    const res = await t.request('POST', '/v1/targets', { name: 'x', kind: 'bad kind!' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVALID_REQUEST');
    expect(res.body.detail).toMatch(/kind/);
  });
});

describe('idempotent retries', () => {
  it('the same event_id sent twice is one event', async () => {
    const eventId = '0190f3c4-1111-7000-8000-000000000001';
    const first = await t.request('POST', `/v1/targets/${target}/events`, {
      event_id: eventId,
      data: { temp: 42 },
    });
    const second = await t.request('POST', `/v1/targets/${target}/events`, {
      event_id: eventId,
      data: { temp: 42 },
    });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.event_ids).toEqual([eventId]);
    expect(second.body.duplicates).toBe(1);
    expect(second.body.seqs).toEqual(first.body.seqs);
    await eventually(
      'projected',
      async () => (await t.sql('SELECT 1 FROM tmi.ts_obs WHERE event_id = $1', [eventId])).length === 1,
    );
    // A second copy, had one got into TMI_IN, is applied once the pipeline has caught up.
    await pipelineCaughtUp(t, ['capture', 'normalize', 'project']);
    for (const table of ['ts_obs', 'raw_bucket']) {
      const rows = await t.sql(`SELECT 1 FROM tmi.${table} WHERE event_id = $1`, [eventId]);
      expect(rows, table).toHaveLength(1);
    }
  });

  it('the same Idempotency-Key twice gives the same event ids and stores them once', async () => {
    const body = [{ data: { temp: 1 } }, { data: { temp: 2 } }];
    const headers = { 'idempotency-key': 'retry-me-1' };
    const first = await t.request('POST', `/v1/targets/${target}/events`, body, headers);
    const second = await t.request('POST', `/v1/targets/${target}/events`, body, headers);
    expect(second.body.event_ids).toEqual(first.body.event_ids);
    expect(second.body.duplicates).toBe(2);
    await eventually('projected', async () => {
      const rows = await t.sql('SELECT 1 FROM tmi.ts_obs WHERE event_id = ANY($1::uuid[])', [
        first.body.event_ids,
      ]);
      return rows.length === 2;
    });
  });
});

describe('schema evolution', () => {
  it('a new field makes a new version; old events still read; a type change is a 409 naming field and types', async () => {
    const created = await t.request('POST', '/v1/targets', { name: 'evo', kind: 'evolving' });
    const id = created.body.target_id;
    const v1 = await t.request('POST', `/v1/targets/${id}/events`, {
      ts: '2026-03-01T00:00:00Z',
      data: { speed: 10 },
    });
    expect(v1.status).toBe(202);
    let schemas = await t.request('GET', '/v1/schemas/evolving');
    expect(schemas.status).toBe(200);
    expect(schemas.body.versions).toHaveLength(1);

    const v2 = await t.request('POST', `/v1/targets/${id}/events`, {
      ts: '2026-03-01T00:01:00Z',
      data: { speed: 11, mode: 'eco' },
    });
    expect(v2.status).toBe(202);
    schemas = await t.request('GET', '/v1/schemas/evolving');
    expect(schemas.body.versions).toHaveLength(2);

    // The same shape again registers nothing new.
    await t.request('POST', `/v1/targets/${id}/events`, {
      ts: '2026-03-01T00:02:00Z',
      data: { mode: 'eco', speed: 12 },
    });
    schemas = await t.request('GET', '/v1/schemas/evolving');
    expect(schemas.body.versions).toHaveLength(2);

    // Old (v1) events are still readable next to v2 ones.
    await eventually('three observations', async () => {
      const rows = await t.sql('SELECT 1 FROM tmi.ts_obs WHERE target_id = $1', [id]);
      return rows.length === 3;
    });
    const series = await t.request(
      'GET',
      `/v1/targets/${id}/obs?from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z`,
    );
    expect(series.status).toBe(200);
    expect(series.body.rows.map((r: { data: unknown }) => r.data)).toEqual([
      { speed: 10 },
      { speed: 11, mode: 'eco' },
      { speed: 12, mode: 'eco' },
    ]);

    const conflict = await t.request('POST', `/v1/targets/${id}/events`, { data: { speed: 'fast' } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('SCHEMA_CONFLICT');
    expect(conflict.body.detail).toContain("'speed'");
    expect(conflict.body.detail).toContain('double');
    expect(conflict.body.detail).toContain('string');
    schemas = await t.request('GET', '/v1/schemas/evolving');
    expect(schemas.body.versions).toHaveLength(2);
  });
});

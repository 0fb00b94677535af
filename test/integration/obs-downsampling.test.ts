// SPDX-License-Identifier: MIT
// GET /v1/targets/{id}/obs?points=N on real PostgreSQL: the SQL returns exactly what the pure reference
// (projections/downsample.ts) computes from the raw rows of the same range — per field, the lowest and
// highest value of each pixel column — and the parameter is documented and checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downsampleMinMax, type SeriesPoint } from '../../projections/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
let targetId: string;
const eventsTotal = 3000;
const stepMs = 1000;
const start = Date.UTC(2026, 10, 20, 8, 0, 0);
const micros = (iso: string) => Date.parse(iso) * 1000 + Number(/\.\d{3}(\d{3})/.exec(iso)?.[1] ?? 0);

/** Deterministic noise with a few spikes, fields that come and go, and a field that is never a number. */
function dataAt(i: number): Record<string, unknown> {
  const wave = Math.sin(i / 40) * 10 + ((i * 7919) % 13) / 3;
  return {
    temp: i % 997 === 0 ? 500 : wave,
    ...(i % 3 === 0 ? { rpm: 1000 + ((i * 31) % 97) } : {}),
    ...(i % 100 === 0 ? { mode: 'auto' } : {}),
  };
}

beforeAll(async () => {
  t = await startTestTmidb('obs-downsampling', { stages: ['normalize', 'project'] });
  const res = await t.request('POST', '/v1/targets', { name: 'pump', kind: 'pump' });
  targetId = res.body.target_id;
  for (let from = 0; from < eventsTotal; from += 500) {
    const batch = Array.from({ length: 500 }, (_, k) => ({
      ts: new Date(start + (from + k) * stepMs).toISOString(),
      data: dataAt(from + k),
    }));
    const sent = await t.request('POST', `/v1/targets/${targetId}/events`, batch);
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
  }
  await eventually('every event is projected', async () => {
    const [row] = await t.sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM tmi.ts_obs WHERE target_id = $1',
      [targetId],
    );
    return row!.n === eventsTotal;
  });
});
afterAll(async () => {
  await t?.stop();
});

/** The field's numeric points in [from, to), read through the raw mode of the same endpoint. */
async function rawSeries(field: string, from: string, to: string): Promise<SeriesPoint[]> {
  const res = await t.request(
    'GET',
    `/v1/targets/${targetId}/obs?fields=${field}&from=${from}&to=${to}&limit=10000`,
  );
  expect(res.status).toBe(200);
  return (res.body.rows as { ts: string; data: Record<string, unknown> }[])
    .filter((r) => typeof r.data[field] === 'number')
    .map((r) => ({ t: micros(r.ts), v: r.data[field] as number }));
}

describe('GET /v1/targets/{id}/obs?points=N', () => {
  it.each([
    ['the whole range, 2 points', 0, eventsTotal, 2],
    ['the whole range, 200 points', 0, eventsTotal, 200],
    ['more points than events', 0, eventsTotal, 10_000],
    ['an odd number of points', 0, eventsTotal, 333],
    ['a window with uneven columns', 17, 2411, 150],
  ])('returns the min/max per pixel column of every field: %s', async (_name, fromIndex, toIndex, points) => {
    const from = new Date(start + fromIndex * stepMs).toISOString();
    const to = new Date(start + toIndex * stepMs).toISOString();
    const res = await t.request(
      'GET',
      `/v1/targets/${targetId}/obs?fields=temp,rpm,mode&from=${from}&to=${to}&points=${points}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.points).toBe(points);
    expect(res.body.rows).toBeUndefined();
    for (const field of ['temp', 'rpm']) {
      const expected = downsampleMinMax(await rawSeries(field, from, to), micros(from), micros(to), points);
      const got = res.body.series[field] as { ts: string[]; value: number[] };
      expect(got.value.length).toBeLessThanOrEqual(points);
      expect(got.ts.map(micros)).toEqual(expected.map((p) => p.t));
      expect(got.value).toEqual(expected.map((p) => p.v));
    }
    expect(res.body.series.mode).toEqual({ ts: [], value: [] }); // strings are not drawn
    // The spikes survive any width.
    if (fromIndex === 0) expect(Math.max(...res.body.series.temp.value)).toBe(500);
  });

  it('defaults to the last 24 h up to now, and answers for fields without data', async () => {
    const res = await t.request('GET', `/v1/targets/${targetId}/obs?fields=temp,nothing&points=100`);
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBeGreaterThanOrEqual(86_400_000);
    expect(res.body.series.nothing).toEqual({ ts: [], value: [] });
  });

  it.each([
    ['points=1&fields=temp', /points/],
    ['points=10001&fields=temp', /points/],
    ['points=100', /fields is required with points/],
    ['points=100&fields=temp&bucket=1m', /cannot be combined with bucket/],
    ['points=100&fields=temp&order=desc', /leave out after, agg and order=desc/],
    [
      `points=100&fields=temp&from=${new Date(start).toISOString()}&to=${new Date(start).toISOString()}`,
      /before to/,
    ],
  ])('rejects %s with a 400 that says why', async (query, detail) => {
    const res = await t.request('GET', `/v1/targets/${targetId}/obs?${query}`);
    expect(res.status).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.detail).toMatch(detail);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = await t.request('GET', '/openapi.json');
    const op = doc.body.paths['/v1/targets/{id}/obs'].get;
    const param = op.parameters.find((p: { name: string }) => p.name === 'points');
    expect(param.schema).toMatchObject({ type: 'integer', minimum: 2, maximum: 10_000 });
    expect(param.description ?? param.schema.description).toMatch(/lowest and highest/);
    expect(JSON.stringify(op.responses['200'])).toContain('series');
  });
});

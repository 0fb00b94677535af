// SPDX-License-Identifier: MIT
// Bucket pages of GET /obs are written with JSON.stringify instead of the route's schema serializer (the
// documented `anyOf` rows made it validate every row twice). The bytes must be the ones the schema
// serializer writes: every aggregate, field names that are awkward in JSON or in JavaScript, values of every
// JSON type, numbers at the edges, aliases and a next cursor. One difference, on purpose: a sum beyond
// float8's range (a double's Infinity) was a 500 (the schema serializer's `anyOf` check refused the row);
// it is now written as null, as the schema's `number | null` allows.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { obsResponseSchema, setObsSerializer, toObsResponse } from '../../../api/routes/obs.js';
import type { ObsParams } from '../../../api/routes/obs-params.js';
import { type BucketSqlRow, bucketPage, type ObsAgg } from '../../../projections/index.js';

const targetId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const awkwardFields = [
  'temp',
  '__proto__',
  'constructor',
  'a"b\\c',
  '온도',
  'emoji 🚗',
  'tab\tnew\nline',
  '\u0001',
];
const values: unknown[] = [
  null,
  0,
  -0,
  1.5,
  1e21,
  5e-324,
  'text "quoted"',
  true,
  { nested: [1, 'x', null] },
  [],
];
const numeric = ['1', '-0.000', '0.1', '1e-320', '123456789012345678901234567890.5', null];

/** SQL-shaped rows: some fields missing from some buckets, every kind of value somewhere. */
function sqlRows(fields: readonly string[], buckets: number): BucketSqlRow[] {
  const out: BucketSqlRow[] = [];
  for (let b = 0; b < buckets; b++) {
    const bucketSeconds = Date.UTC(2026, 10, 24, 0, b) / 1000;
    fields.forEach((_field, i) => {
      if ((b + i) % 3 === 2) return;
      const k = b * fields.length + i;
      out.push([
        bucketSeconds,
        null,
        i,
        String(k + 1),
        numeric[k % numeric.length]!,
        k % 4 === 0 ? null : -k / 7,
        k % 5 === 0 ? null : k * 1.25,
        numeric[(k + 2) % numeric.length]!,
        values[k % values.length],
        values[(k + 3) % values.length],
      ]);
    });
  }
  return out;
}

interface Written {
  readonly status: number;
  readonly type: string | undefined;
  readonly body: string;
}

/** The page as the route's schema serializer writes it, and as setObsSerializer has it written. */
async function writers(): Promise<{
  viaSchema: (p: unknown) => Promise<Written>;
  viaRoute: (p: unknown) => Promise<Written>;
}> {
  const app = Fastify();
  let next: unknown;
  const schema = { response: { 200: obsResponseSchema } };
  app.get('/schema', { schema }, async () => next);
  app.get('/route', { schema }, async (_req, reply) => {
    setObsSerializer(reply, 'bucket');
    return next;
  });
  await app.ready();
  const write = (url: string) => async (page: unknown) => {
    next = page;
    const res = await app.inject({ method: 'GET', url });
    return {
      status: res.statusCode,
      type: res.headers['content-type'] as string | undefined,
      body: res.payload,
    };
  };
  return { viaSchema: write('/schema'), viaRoute: write('/route') };
}

describe('bucket pages written with JSON.stringify', () => {
  const aggOrders: ObsAgg[][] = [
    ['avg', 'min', 'max', 'count', 'last'],
    ['last', 'first', 'sum', 'count', 'max', 'min', 'avg'],
    ['count'],
    ['first', 'avg'],
  ];
  for (const aggs of aggOrders) {
    it(`equal the schema serializer's bytes (agg=${aggs.join(',')})`, async () => {
      const { viaSchema, viaRoute } = await writers();
      const params: ObsParams = {
        fromIso: '2026-11-24T00:00:00.000000Z',
        toIso: '2026-11-25T00:00:00.000000Z',
        fields: awkwardFields,
        bucket: { seconds: 60, text: '1m' },
        aggs,
        limit: 5,
        order: 'asc',
      };
      const result = bucketPage(sqlRows(awkwardFields, 7), { targetId, ...params });
      expect(result.next).toBeDefined();
      for (const aliases of [undefined, { temp: 'temperature', 온도: 'temperature' }]) {
        const page = toObsResponse(targetId, params, result, aliases);
        const reference = await viaSchema(page);
        expect(reference.status).toBe(200);
        expect(await viaRoute(page)).toEqual(reference);
        expect(Object.keys(JSON.parse(reference.body).rows[0].fields)).toEqual(awkwardFields);
      }
    });
  }
});

it('writes a sum or average beyond float8 as null (the schema serializer answered 500)', async () => {
  const { viaSchema, viaRoute } = await writers();
  const params: ObsParams = {
    fields: ['x'],
    bucket: { seconds: 60, text: '1m' },
    aggs: ['sum', 'avg'],
    limit: 5,
    order: 'asc',
  };
  // bucket, its text (SQL's only outside years 1–9999), field's index, count, avg, min, max, sum, first, last
  const row: BucketSqlRow = [
    Date.UTC(2026, 10, 24) / 1000,
    null,
    0,
    '2',
    '1e308',
    1e308,
    1e308,
    '2e308',
    null,
    null,
  ];
  const page = toObsResponse(targetId, params, bucketPage([row], { targetId, ...params }));
  const written = await viaRoute(page);
  expect(written.status).toBe(200);
  expect(JSON.parse(written.body).rows[0].fields.x).toEqual({ avg: 1e308, sum: null });
  expect((await viaSchema(page)).status).toBe(500);
});

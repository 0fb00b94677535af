// SPDX-License-Identifier: MIT
// queryObs against a real PostgreSQL: rows are inserted into tmi.ts_obs directly, and every answer is
// checked against the same computation done in JS: raw order and masking, cursor paging both ways,
// bucketed aggregates (numeric-only avg/min/max/sum, count of presence, first/last with ties), and
// that the plans run on the (target_id, ts, event_id) key, never a sequential scan.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, migrate, type Pool } from '../../db/index.js';
import {
  type BucketObsRow,
  bucketObsSql,
  type ObsAgg,
  type ObsCursor,
  type ObsQuery,
  queryObs,
  type RawObsRow,
  rawObsSql,
} from '../../projections/index.js';
import { microsToIso, uuidv7 } from '../../schemas/index.js';
import { type TestEnv, testEnv } from '../support/env.js';

interface Obs {
  readonly ts: number; // µs
  readonly eventId: string;
  readonly payload: Record<string, unknown>;
}

const target = uuidv7();
const otherTargets = [uuidv7(), uuidv7(), uuidv7(), uuidv7()];
const eventsPerTarget = 3000;
const stepMicros = 60_000_000;
const hourMicros = 3_600_000_000;
const originMicros = Date.UTC(2000, 0, 1) * 1000;
// Two and a bit days back, on an hour: the rows span three daily partitions.
const startMicros = Math.floor((Date.now() * 1000 - 2.2 * 24 * hourMicros) / hourMicros) * hourMicros;
const allAggs: ObsAgg[] = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'];

let env: TestEnv;
let pool: Pool;
let observations: Obs[] = [];

/** Deterministic pseudo-random numbers, so a failure can be reproduced. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** Varied payloads: numbers, a field that is sometimes a string, absent fields, nested and array values. */
function makeObservations(count: number, seed: number): Obs[] {
  const rnd = lcg(seed);
  const out: Obs[] = [];
  for (let i = 0; i < count; i++) {
    // Every 50th event shares the previous one's ts: ties are broken by event_id.
    const ts = i % 50 === 49 ? out[i - 1]!.ts : startMicros + i * stepMicros + (i % 7);
    const payload: Record<string, unknown> = { status: i % 3 === 0 ? 'ok' : 'warn' };
    if (i % 10 !== 0) payload.temp = Math.round(rnd() * 10_000) / 100 - 20;
    if (i % 4 === 0) payload.hum = Math.round(rnd() * 100);
    if (i % 5 === 0) payload.mixed = i % 15 === 0 ? 'n/a' : rnd() * 3;
    if (i % 17 === 0) payload.engine = { rpm: i, on: true };
    if (i % 19 === 0) payload.tags = ['a', i];
    out.push({ ts, eventId: uuidv7(), payload });
  }
  return out;
}

async function insert(targetId: string, rows: readonly Obs[]): Promise<void> {
  await pool.query(
    `INSERT INTO tmi.ts_obs (target_id, ts, event_id, schema_id, payload, received_at)
     SELECT $1, t, e, 1, p, t FROM unnest($2::timestamptz[], $3::uuid[], $4::jsonb[]) AS x(t, e, p)`,
    [
      targetId,
      rows.map((r) => microsToIso(r.ts)),
      rows.map((r) => r.eventId),
      rows.map((r) => JSON.stringify(r.payload)),
    ],
  );
}

const byKey = (a: Obs, b: Obs) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);

beforeAll(async () => {
  env = await testEnv('obs_query');
  pool = createPool(env.pgUrl, 4);
  await migrate(pool);
  observations = makeObservations(eventsPerTarget, 42).sort(byKey);
  await insert(target, observations);
  for (const [i, other] of otherTargets.entries())
    await insert(other, makeObservations(eventsPerTarget, i + 1));
  await pool.query('ANALYZE tmi.ts_obs');
});
afterAll(async () => {
  await pool?.end();
  await env?.dropAll();
});

function inRange(o: Obs, from?: number, to?: number): boolean {
  return (from === undefined || o.ts >= from) && (to === undefined || o.ts < to);
}

function expectedRaw(fields?: readonly string[], from?: number, to?: number): RawObsRow[] {
  const out: RawObsRow[] = [];
  for (const o of observations.filter((x) => inRange(x, from, to))) {
    const data = fields === undefined ? o.payload : pick(o.payload, fields);
    if (Object.keys(data).length > 0) out.push({ ts: microsToIso(o.ts), event_id: o.eventId, data });
  }
  return out;
}

function pick(payload: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => Object.hasOwn(payload, f)).map((f) => [f, payload[f]]));
}

/** Follows `next` until the last page; every page but the last is full. */
async function allPages(q: ObsQuery): Promise<{ rows: (RawObsRow | BucketObsRow)[]; pages: number }> {
  const rows: (RawObsRow | BucketObsRow)[] = [];
  let after: ObsCursor | undefined;
  let pages = 0;
  do {
    const res = await queryObs(pool, { ...q, after });
    pages++;
    if (res.next !== undefined) expect(res.rows).toHaveLength(q.limit);
    rows.push(...res.rows);
    after = res.next;
  } while (after !== undefined && pages < 10_000);
  return { rows, pages };
}

describe('raw mode', () => {
  it('returns every observation of the target in (ts, event_id) order, data as stored', async () => {
    const res = await queryObs(pool, { targetId: target, limit: 10_000, order: 'asc' });
    expect(res.mode).toBe('raw');
    expect(res.next).toBeUndefined();
    expect(res.rows).toEqual(expectedRaw());
  });

  it('desc is the exact reverse', async () => {
    const res = await queryObs(pool, { targetId: target, limit: 10_000, order: 'desc' });
    expect(res.rows).toEqual(expectedRaw().reverse());
  });

  it('masks data to the fields and skips events holding none of them', async () => {
    const fields = ['hum', 'mixed', 'engine'];
    const res = await queryObs(pool, { targetId: target, fields, limit: 10_000, order: 'asc' });
    const expected = expectedRaw(fields);
    expect(expected.length).toBeLessThan(observations.length);
    expect(res.rows).toEqual(expected);
  });

  it('treats field names as data, never as SQL', async () => {
    const fields = ["x'); DROP TABLE tmi.ts_obs; --", 'temp'];
    const res = await queryObs(pool, { targetId: target, fields, limit: 10_000, order: 'asc' });
    expect(res.rows).toEqual(expectedRaw(['temp']));
  });

  it('keeps [from, to) with microsecond precision', async () => {
    const from = observations[100]!.ts;
    const to = observations[200]!.ts;
    const res = await queryObs(pool, {
      targetId: target,
      fromIso: microsToIso(from),
      toIso: microsToIso(to),
      limit: 10_000,
      order: 'asc',
    });
    expect(res.rows).toEqual(expectedRaw(undefined, from, to));
    expect((res.rows[0] as RawObsRow | undefined)?.ts).toBe(microsToIso(from));
  });

  it.each(['asc', 'desc'] as const)(
    'pages %s with the cursor: no gaps, no duplicates (ties included)',
    async (order) => {
      const from = observations[40]!.ts;
      const to = observations[460]!.ts;
      const q: ObsQuery = {
        targetId: target,
        fromIso: microsToIso(from),
        toIso: microsToIso(to),
        fields: ['temp', 'hum'],
        limit: 7,
        order,
      };
      const expected = expectedRaw(['temp', 'hum'], from, to);
      if (order === 'desc') expected.reverse();
      const { rows, pages } = await allPages(q);
      expect(rows).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / 7));
    },
  );
});

interface Cell {
  count: number;
  nums: number[];
  first?: Obs;
  last?: Obs;
}

/** The bucketed answer computed in JS. */
function expectedBuckets(
  fields: readonly string[],
  widthMicros: number,
  from: number,
  to: number,
): BucketObsRow[] {
  const buckets = new Map<number, Map<string, Cell>>();
  for (const o of observations.filter((x) => inRange(x, from, to))) {
    const start = originMicros + Math.floor((o.ts - originMicros) / widthMicros) * widthMicros;
    for (const f of fields) {
      if (!Object.hasOwn(o.payload, f)) continue;
      const cells = buckets.get(start) ?? new Map<string, Cell>();
      buckets.set(start, cells);
      const cell = cells.get(f) ?? { count: 0, nums: [] };
      cells.set(f, cell);
      cell.count++;
      const v = o.payload[f];
      if (typeof v === 'number') cell.nums.push(v);
      cell.first ??= o; // observations are sorted by (ts, event_id)
      cell.last = o;
    }
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([start, cells]) => ({
      bucket_start: microsToIso(start),
      fields: Object.fromEntries(fields.map((f) => [f, cellAggs(cells.get(f), f)])),
    }));
}

function cellAggs(cell: Cell | undefined, field: string): Record<string, unknown> {
  const nums = cell?.nums ?? [];
  const sum = nums.reduce((a, b) => a + b, 0);
  return {
    avg: nums.length === 0 ? null : sum / nums.length,
    min: nums.length === 0 ? null : Math.min(...nums),
    max: nums.length === 0 ? null : Math.max(...nums),
    sum: nums.length === 0 ? null : sum,
    count: cell?.count ?? 0,
    first: cell?.first?.payload[field] ?? null,
    last: cell?.last?.payload[field] ?? null,
  };
}

/** Compares bucket rows, floating-point aggregates to 9 digits. */
function expectBucketsEqual(actual: readonly BucketObsRow[], expected: readonly BucketObsRow[]): void {
  expect(actual.map((r) => r.bucket_start)).toEqual(expected.map((r) => r.bucket_start));
  for (const [i, row] of actual.entries()) {
    const want = expected[i]!;
    expect(Object.keys(row.fields).sort()).toEqual(Object.keys(want.fields).sort());
    for (const [field, aggs] of Object.entries(row.fields)) {
      const wantAggs = want.fields[field]!;
      for (const [agg, value] of Object.entries(aggs)) {
        const wanted = wantAggs[agg as ObsAgg];
        if (typeof wanted === 'number' && agg !== 'count')
          expect(value, `${row.bucket_start} ${field}.${agg}`).toBeCloseTo(wanted, 9);
        else expect(value, `${row.bucket_start} ${field}.${agg}`).toEqual(wanted);
      }
    }
  }
}

describe('bucketed mode', () => {
  const from = startMicros + 30 * stepMicros + 123; // not on the grid: the first bucket is partial
  const to = startMicros + 2900 * stepMicros;
  const fields = ['temp', 'hum', 'mixed', 'engine', 'absent', '__proto__'];

  it('aggregates per hour exactly as computed in JS', async () => {
    const res = await queryObs(pool, {
      targetId: target,
      fromIso: microsToIso(from),
      toIso: microsToIso(to),
      fields,
      bucket: { seconds: 3600, text: '1h' },
      aggs: allAggs,
      limit: 10_000,
      order: 'asc',
    });
    expect(res.mode).toBe('bucket');
    expect(res.next).toBeUndefined();
    const expected = expectedBuckets(fields, hourMicros, from, to);
    expect(expected.length).toBeGreaterThan(40);
    expectBucketsEqual(res.rows as BucketObsRow[], expected);
    // A field with no data anywhere is still there, with count 0.
    expect((res.rows[0] as BucketObsRow).fields.absent).toEqual({
      avg: null,
      min: null,
      max: null,
      sum: null,
      count: 0,
      first: null,
      last: null,
    });
  });

  it('returns only the requested aggregates', async () => {
    const res = await queryObs(pool, {
      targetId: target,
      fromIso: microsToIso(from),
      toIso: microsToIso(to),
      fields: ['temp'],
      bucket: { seconds: 300, text: '5m' },
      aggs: ['max', 'last'],
      limit: 3,
      order: 'asc',
    });
    expect(res.rows).toHaveLength(3);
    for (const row of res.rows as BucketObsRow[])
      expect(Object.keys(row.fields.temp!).sort()).toEqual(['last', 'max']);
  });

  it.each(['asc', 'desc'] as const)('pages %s through buckets with the cursor', async (order) => {
    const q: ObsQuery = {
      targetId: target,
      fromIso: microsToIso(from),
      toIso: microsToIso(to),
      fields: ['temp', 'mixed'],
      bucket: { seconds: 1800, text: '30m' },
      aggs: allAggs,
      limit: 6,
      order,
    };
    const expected = expectedBuckets(['temp', 'mixed'], 1800 * 1_000_000, from, to);
    if (order === 'desc') expected.reverse();
    const { rows } = await allPages(q);
    expectBucketsEqual(rows as BucketObsRow[], expected);
  });
});

describe('plans', () => {
  interface PlanNode {
    'Node Type': string;
    'Relation Name'?: string;
    'Index Name'?: string;
    Plans?: PlanNode[];
  }

  function nodes(plan: PlanNode): PlanNode[] {
    return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
  }

  async function planNodes(sql: { text: string; values: unknown[] }): Promise<PlanNode[]> {
    const { rows } = await pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${sql.text}`,
      sql.values,
    );
    return nodes(rows[0]!['QUERY PLAN'][0].Plan);
  }

  const range = {
    targetId: target,
    fromIso: microsToIso(startMicros + 100 * stepMicros),
    toIso: microsToIso(startMicros + 1500 * stepMicros),
    limit: 1000,
    order: 'asc',
  } as const;
  const bucketed: ObsQuery = {
    ...range,
    fields: ['temp', 'hum'],
    bucket: { seconds: 60, text: '1m' },
    aggs: allAggs,
  };

  it.each([
    ['raw', rawObsSql(range)],
    ['raw with fields', rawObsSql({ ...range, fields: ['temp'] })],
    [
      'raw desc after a cursor',
      rawObsSql({ ...range, order: 'desc', after: { ts: range.toIso, eventId: target } }),
    ],
    ['raw without a range', rawObsSql({ targetId: target, limit: 100, order: 'desc' })],
    ['bucketed', bucketObsSql(bucketed)],
    ['bucketed after a cursor', bucketObsSql({ ...bucketed, after: { ts: range.fromIso } })],
  ])('%s: index scans on the ts_obs key, no sequential scan', async (_name, sql) => {
    const plan = await planNodes(sql);
    expect(plan.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    const obsScans = plan.filter((n) => n['Relation Name']?.startsWith('ts_obs'));
    expect(obsScans.length).toBeGreaterThan(0);
    for (const scan of obsScans) {
      // An index scan of the key, or a bitmap heap scan fed by one (chosen for short ranges).
      const indexScans = scan['Node Type'] === 'Bitmap Heap Scan' ? nodes(scan).slice(1) : [scan];
      for (const s of indexScans) {
        expect(s['Node Type']).toMatch(/^(Bitmap Index Scan|Index Scan|Index Only Scan)$/);
        expect(s['Index Name']).toMatch(/^ts_obs_.*pkey$/);
      }
    }
  });
});

// SPDX-License-Identifier: MIT
// The geo projection end to end: positions in events become geo_trace rows and the newest position per
// target; /v1/geo/near returns exactly the targets a brute-force haversine says are inside the radius
// (around the antimeridian and the poles too), nearest first, through the GiST index; distances match
// published great-circle distances; bad coordinates are skipped, counted and visible.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineStatus } from '../../pipelines/index.js';
import { greatCircleMeters } from '../../processors/index.js';
import { nearSql } from '../../projections/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('geo', { stages: ['normalize', 'geo'] });
});
afterAll(async () => {
  await t?.stop();
});

async function createTarget(name: string, kind: string): Promise<string> {
  const res = await t.request('POST', '/v1/targets', { name, kind });
  expect(res.status).toBe(201);
  return res.body.target_id;
}

async function positions(
  events: { target_id: string; ts?: string; data: Record<string, unknown> }[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < events.length; i += 500) {
    const res = await t.request('POST', '/v1/events', events.slice(i, i + 500));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    ids.push(...res.body.event_ids);
  }
  const withPosition = events.filter((e) => 'lat' in e.data || 'lon' in e.data).length;
  await eventually('the geo stage caught up', async () => {
    const rows = await t.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT event_id FROM tmi.geo_trace WHERE event_id = ANY($1::uuid[])
       UNION ALL SELECT event_id FROM tmi.stage_skip WHERE event_id = ANY($1::uuid[])) x`,
      [ids],
    );
    return rows[0]!.n === withPosition;
  });
  return ids;
}

/** A deterministic pseudo-random sequence (the test is the same every run). */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
}

describe('/v1/geo/near', () => {
  const clusters = [
    { name: 'seoul', lat: 37.5, lon: 127, spread: 1 },
    { name: 'dateline', lat: -17, lon: 180, spread: 1 }, // Fiji: straddles the antimeridian
    { name: 'north', lat: 89.6, lon: 0, spread: 0.4 }, // around the north pole, every longitude
    { name: 'south', lat: -89.7, lon: 0, spread: 0.3 },
  ];
  const points: { id: string; lat: number; lon: number; kind: string }[] = [];

  beforeAll(async () => {
    const next = rng(42);
    for (const c of clusters) {
      for (let i = 0; i < 60; i++) {
        const polar = Math.abs(c.lat) > 80;
        let lat = c.lat + (next() - 0.5) * 2 * c.spread;
        lat = Math.max(-90, Math.min(90, lat));
        let lon = polar ? next() * 360 - 180 : c.lon + (next() - 0.5) * 2 * c.spread;
        if (lon > 180) lon -= 360;
        if (lon < -180) lon += 360;
        const kind = i % 3 === 0 ? 'boat' : 'truck';
        points.push({ id: await createTarget(`${c.name}-${i}`, kind), lat, lon, kind });
      }
    }
    await positions(points.map((p) => ({ target_id: p.id, data: { lat: p.lat, lon: p.lon, speed: 3 } })));
  });

  const queries: [string, number, number, number][] = [
    ['Seoul, 50 km', 37.5, 127, 50_000],
    ['Seoul, 120 km', 37.6, 126.8, 120_000],
    ['east of the antimeridian, reaching west of it', -17, 179.8, 80_000],
    ['west of the antimeridian, reaching east of it', -17.2, -179.7, 100_000],
    ['the north pole', 90, 0, 30_000],
    ['near the north pole, across it', 89.8, 100, 40_000],
    ['the south pole', -90, 0, 25_000],
  ];
  it.each(queries)(
    '%s: exactly the targets haversine puts inside, nearest first',
    async (_n, lat, lon, radius) => {
      const res = await t.request('GET', `/v1/geo/near?lat=${lat}&lon=${lon}&radius_m=${radius}&limit=1000`);
      expect(res.status).toBe(200);
      const got = res.body.targets as { target_id: string; distance_m: number; lat: number; lon: number }[];
      const ambiguousMeters = 0.5;
      const brute = points.map((p) => ({ ...p, d: greatCircleMeters(lat, lon, p.lat, p.lon) }));
      const inside = brute.filter((p) => p.d <= radius - ambiguousMeters).map((p) => p.id);
      const outside = new Set(brute.filter((p) => p.d > radius + ambiguousMeters).map((p) => p.id));
      const gotIds = got.map((g) => g.target_id);
      expect(inside.length).toBeGreaterThan(2);
      for (const id of inside) expect(gotIds).toContain(id);
      for (const id of gotIds) expect(outside.has(id)).toBe(false);
      // Nearest first, and the distances are haversine's on earthdistance's sphere.
      expect(got.map((g) => g.distance_m)).toEqual([...got.map((g) => g.distance_m)].sort((a, b) => a - b));
      for (const g of got) {
        const p = brute.find((b) => b.id === g.target_id)!;
        expect(Math.abs(g.distance_m - p.d)).toBeLessThan(0.01);
      }
    },
  );

  it('filters by kind and honours limit', async () => {
    const res = await t.request('GET', '/v1/geo/near?lat=37.5&lon=127&radius_m=200000&kind=boat&limit=5');
    expect(res.body.targets).toHaveLength(5);
    for (const g of res.body.targets) expect(g.kind).toBe('boat');
    const all = points
      .filter((p) => p.kind === 'boat')
      .map((p) => greatCircleMeters(37.5, 127, p.lat, p.lon));
    expect(res.body.targets.map((g: { distance_m: number }) => g.distance_m)).toEqual(
      all
        .sort((a, b) => a - b)
        .slice(0, 5)
        .map((d) => expect.closeTo(d, 2)),
    );
  });

  it('refuses a radius ≤ 0, beyond half the earth, or a centre off the globe', async () => {
    for (const qs of [
      'lat=0&lon=0&radius_m=0',
      'lat=0&lon=0&radius_m=-5',
      'lat=0&lon=0&radius_m=3e7',
      'lat=91&lon=0&radius_m=5',
      'lat=0&radius_m=5',
    ]) {
      const res = await t.request('GET', `/v1/geo/near?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
    }
    const res = await t.request('GET', '/v1/geo/near?lat=0&lon=0&radius_m=0');
    expect(res.body.detail).toMatch(/radius_m/);
  });

  it('EXPLAIN: the earth_box prefilter runs on the GiST index of target_position', async () => {
    // Enough rows that the planner prefers the index on its own (no enable_seqscan tricks), inside a
    // transaction that is rolled back: 50,000 targets with positions spread over the globe.
    const client = await t.runtime.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`
        WITH g AS (SELECT gen_random_uuid() AS id, random() * 170 - 85 AS lat, random() * 360 - 180 AS lon
                   FROM generate_series(1, 50000))
        , t AS (INSERT INTO tmi.target (target_id, name, kind) SELECT id, 'x', 'bulk' FROM g RETURNING target_id)
        INSERT INTO tmi.target_position (target_id, ts, event_id, lat, lon)
        SELECT id, now(), gen_random_uuid(), lat, lon FROM g`);
      await client.query('ANALYZE tmi.target');
      await client.query('ANALYZE tmi.target_position');
      const { text, values } = nearSql({ lat: 37.5, lon: 127, radiusMeters: 50_000, limit: 100 });
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
      const nodes = flatten(rows[0]['QUERY PLAN'][0].Plan);
      // earth_box(…) is folded into a constant cube; the index answers `ll_to_earth(lat, lon) <@ cube`.
      const scan = nodes.find((n) => n['Index Name'] === 'target_position_earth_idx');
      expect(scan?.['Node Type'], JSON.stringify(nodes)).toMatch(/Index Scan/);
      expect(scan?.['Index Cond']).toMatch(/ll_to_earth\(lat, lon\)\)::cube <@/);
      expect(
        nodes.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'target_position'),
      ).toBe(false);
      const timed = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
      const ms = timed.rows[0]['QUERY PLAN'][0]['Execution Time'] as number;
      console.info(`near query over 50,240 positions: ${ms.toFixed(2)} ms`);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});

describe('known distances (published great-circle values, within 0.5 %)', () => {
  // earthdistance measures on a sphere of radius 6,378,168 m; published values use 6,371 km (the mean
  // radius) or the WGS84 ellipsoid, hence a tolerance rather than equality.
  const cases: [string, [number, number], [number, number], number][] = [
    // Rosetta Code "Haversine formula": BNA → LAX, 2886.444 km with R = 6371 km.
    ['Nashville BNA → Los Angeles LAX', [36.12, -86.67], [33.94, -118.4], 2_886_444],
    // London (51.5, 0) → Arlington (38.8, -77.1): 5918.185 km with R = 6371 km.
    ['London → Arlington', [51.5, 0], [38.8, -77.1], 5_918_185],
    // One degree of the equator across the antimeridian: 111,319.5 m (WGS84 equatorial degree).
    ['across the antimeridian, 1° of equator', [0, 179.5], [0, -179.5], 111_319.5],
    // Over the north pole, 89.5°N 0°E → 89.5°N 180°E: 1° of meridian arc, 111,694 m near the pole (WGS84).
    ['over the north pole', [89.5, 0], [89.5, 180], 111_694],
    // The south pole to 89°S: 1° of meridian arc.
    ['from the south pole', [-90, 0], [-89, 45], 111_694],
  ];
  it.each(cases)('%s', async (name, [lat1, lon1], [lat2, lon2], published) => {
    const id = await createTarget(`known-${name}`, 'landmark');
    await positions([{ target_id: id, data: { lat: lat2, lon: lon2 } }]);
    const res = await t.request(
      'GET',
      `/v1/geo/near?lat=${lat1}&lon=${lon1}&radius_m=${published * 1.01}&kind=landmark`,
    );
    const hit = res.body.targets.find((g: { target_id: string }) => g.target_id === id);
    expect(hit, JSON.stringify(res.body)).toBeDefined();
    const error = Math.abs(hit.distance_m - published) / published;
    expect(error, `${hit.distance_m} m vs ${published} m`).toBeLessThan(0.005);
    await t.request('DELETE', `/v1/targets/${id}`);
  });
});

describe('positions of one target', () => {
  it('keeps the newest position by observation time; the trace is time-ordered and paged', async () => {
    const id = await createTarget('van', 'van');
    const ts = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();
    // Sent newest first: the late ones must not move the van back.
    await positions([
      { target_id: id, ts: ts(30), data: { lat: 10.3, lon: 20, alt: 5, heading: 90, accuracy: 3 } },
      { target_id: id, ts: ts(10), data: { lat: 10.1, lon: 20 } },
      { target_id: id, ts: ts(20), data: { lat: 10.2, lon: 20, speed: 12.5 } },
    ]);
    const got = await t.request('GET', `/v1/targets/${id}`);
    expect(got.body.position).toMatchObject({
      lat: 10.3,
      lon: 20,
      alt: 5,
      heading: 90,
      accuracy: 3,
      ts: '2026-01-01T12:00:30.000000Z',
    });
    const page1 = await t.request('GET', `/v1/targets/${id}/trace?limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.body.points.map((p: { lat: number }) => p.lat)).toEqual([10.1, 10.2]);
    expect(page1.body.points[1].speed).toBe(12.5);
    const page2 = await t.request('GET', `/v1/targets/${id}/trace?limit=2&after=${page1.body.next}`);
    expect(page2.body.points.map((p: { lat: number }) => p.lat)).toEqual([10.3]);
    expect(page2.body.next).toBeUndefined();
    const ranged = await t.request('GET', `/v1/targets/${id}/trace?from=${ts(15)}&to=${ts(30)}&order=desc`);
    expect(ranged.body.points.map((p: { lat: number }) => p.lat)).toEqual([10.2]);
    expect((await t.request('GET', '/v1/targets/00000000-0000-4000-8000-000000000000/trace')).status).toBe(
      404,
    );
    const none = await t.request('GET', `/v1/targets/${await createTarget('parked', 'van')}`);
    expect(none.body.position).toBeNull();
  });

  it('does not project bad coordinates: skipped with the reason, counted in pipeline status and /metrics', async () => {
    const id = await createTarget('glitchy', 'tracker');
    const odd = await createTarget('stringy', 'oddity');
    const ids = await positions([
      { target_id: id, ts: '2026-01-01T00:00:01Z', data: { lat: 1, lon: 1 } },
      { target_id: id, ts: '2026-01-01T00:00:02Z', data: { lat: 95, lon: 1 } },
      { target_id: id, ts: '2026-01-01T00:00:03Z', data: { lat: 1, lon: -200 } },
      { target_id: id, ts: '2026-01-01T00:00:04Z', data: { lat: 2 } },
      { target_id: odd, ts: '2026-01-01T00:00:05Z', data: { lat: 'north', lon: 'east' } },
      { target_id: id, ts: '2026-01-01T00:00:00Z', data: { temp: 5 } }, // no position at all: not a skip
    ]);
    expect(ids).toHaveLength(6);
    const skips = await t.sql<{ reason: string }>(
      'SELECT reason FROM tmi.stage_skip WHERE target_id = ANY($1::uuid[]) ORDER BY ts',
      [[id, odd]],
    );
    expect(skips.map((s) => s.reason)).toEqual([
      'lat_out_of_range',
      'lon_out_of_range',
      'lon_missing',
      'lat_not_a_number',
    ]);
    const trace = await t.request('GET', `/v1/targets/${id}/trace`);
    expect(trace.body.points.map((p: { lat: number }) => p.lat)).toEqual([1]);
    expect((await t.request('GET', `/v1/targets/${id}`)).body.position.lat).toBe(1);

    const status = await pipelineStatus(
      await jetstreamManager(t.runtime.nc),
      t.runtime.pool,
      t.runtime.topology,
    );
    const geo = status.find((s) => s.stage === 'geo')!;
    expect(geo.skipped).toBe(4);
    expect(geo.skipReasons).toEqual({
      lat_out_of_range: 1,
      lon_out_of_range: 1,
      lon_missing: 1,
      lat_not_a_number: 1,
    });
    const metrics = String((await t.request('GET', '/metrics')).body);
    expect(metrics).toMatch(/tmidb_stage_events_skipped_total\{stage="geo",reason="lat_out_of_range"\} 1/);
  });
});

function flatten(node: Record<string, any>): Record<string, any>[] {
  return [node, ...((node.Plans as Record<string, any>[] | undefined) ?? []).flatMap(flatten)];
}

// SPDX-License-Identifier: MIT
// Scenario 4 — queries on a loaded database: targets with positions and state, a few "busy" targets
// with a full day of 1 Hz observations and the rest of the `ts_obs` rows spread over the others, all
// generated in SQL with generate_series (a query benchmark needs the rows, not the pipeline). Then,
// one client, one query at a time, through the HTTP API: the latest state of one target, a day of one
// busy target bucketed by minute, and a radius query returning ~100 targets.
import { performance } from 'node:perf_hooks';
import { createPool, type Pool } from '../db/index.js';
import type { BenchServers } from './env.js';
import { benchDb } from './env.js';
import { MemorySampler, otherCores, processGroups } from './memory.js';
import type { Sizes } from './options.js';
import type { Progress } from './progress.js';
import {
  type ChartContext,
  type ChartQueriesResult,
  chartDaySecondsMin,
  measureChartQueries,
  rebuildBenchRollups,
  weekPeriods,
} from './queries-points.js';
import { type Percentiles, percentiles } from './stats.js';
import { startTmidb } from './tmidb.js';
import { areaLatMax, areaLatMin, areaLonMax, areaLonMin, benchKind, noise } from './workload.js';

/** Runs of each query before the measured ones (plans cached, connections open). */
export const queryWarmupRuns = 5;
/** Connections that load the database at once (the machine's cores). */
const queryLoadConnections = 2;
/** Busy targets' observations are inserted this many targets per statement. */
const busyTargetsPerStatement = 5;
/** The other targets' observations are inserted this many targets per statement. */
const quietTargetsPerStatement = 20_000;
/** Degrees of latitude per metre (for keeping radius query centres inside the area). */
const degreesPerMetre = 1 / 111_320;

export interface QueryFigures extends Percentiles {
  readonly how: string;
  /** Mean rows (state fields, buckets, targets) a run returned. */
  readonly rowsMean: number;
}

export interface QueriesResult {
  readonly obsRows: number;
  readonly targets: number;
  readonly busyTargets: number;
  readonly busySeconds: number;
  readonly loadSeconds: number;
  readonly latestState: QueryFigures;
  readonly dayByMinute: QueryFigures;
  readonly radius: QueryFigures;
  /** Charts (`points=`) of a day and of a week, rollup-backed, and their SQL before and after the rollups
   * (only when the busy period is a day or more). */
  readonly charts?: ChartQueriesResult;
  /** Average cores other work on the machine used while the queries ran. */
  readonly otherCores: number;
}

/** A stable id of target i, computed the same way in JS and SQL. */
const idSql = (expr: string) => `md5('bench-target-' || ${expr})::uuid`;
const unitSql = (salt: string, expr: string) =>
  `(('x' || substr(md5('${salt}' || ${expr}), 1, 8))::bit(32)::bigint / 4294967296.0)`;

export async function runQueries(
  servers: BenchServers,
  sizes: Sizes,
  progress: Progress,
  nodeFlags: readonly string[],
): Promise<QueriesResult> {
  progress.start('scenario 4: starting tmiDB');
  const db = await benchDb(servers, 'queries');
  const procs = await startTmidb(servers, db, { stages: [], nodeFlags });
  const pool = createPool(db.pgUrl, queryLoadConnections);
  try {
    const loadStarted = performance.now();
    const { day, obsRows } = await loadQueryData(pool, sizes, progress);
    const loadSeconds = Math.round((performance.now() - loadStarted) / 100) / 10;
    const ids = await pool.query<{ id: string; i: number }>(
      `SELECT ${idSql('i')}::text AS id, i FROM generate_series(1, $1::int) i`,
      [sizes.queryTargets],
    );
    const allIds = ids.rows.map((r) => r.id);
    const busyIds = allIds.slice(0, sizes.queryBusyTargets);
    const ctx: QueryContext = { apiUrl: procs.apiUrl, auth: procs.authHeaders, sizes, progress, pool };
    const chartCtx = {
      ...ctx,
      runs: sizes.queryBucketRuns,
      dayMs: day,
      busySeconds: sizes.queryBusySeconds,
      busyIds,
      weekId: busyIds[0]!,
      measure,
      getJson,
    };
    // Charts of a day and a week (rollup-backed) need a day of data at least: not at --quick sizes.
    // The rows were loaded in SQL: roll them up, as the pipeline would have (the bucketed query reads them).
    const rebuildSeconds = await rollUpLoadedRows(chartCtx, pool, progress);

    const sampler = new MemorySampler(
      processGroups(procs.pids(), () => servers.postmasterPid(), servers.nats.pid, 'cpu'),
    );
    await sampler.start();
    const measureStarted = performance.now();
    const latestState = await measureLatestState(ctx, allIds);
    const dayByMinute = await measureDayByMinute(ctx, busyIds, day);
    const { radius, route } = await measureRadius(ctx);
    const charts = withWeek(sizes) ? await measureChartQueries(chartCtx, rebuildSeconds) : undefined;
    const resources = await sampler.stop({});
    const out: QueriesResult = {
      otherCores: otherCores(resources, performance.now() - measureStarted),
      obsRows,
      targets: sizes.queryTargets,
      busyTargets: sizes.queryBusyTargets,
      busySeconds: sizes.queryBusySeconds,
      loadSeconds,
      latestState: { ...latestState, how: 'GET /v1/targets/{id}' },
      dayByMinute: {
        ...dayByMinute,
        how: 'GET /v1/targets/{id}/obs?bucket=1m&fields=speed,temp (rollup-backed)',
      },
      ...(charts === undefined ? {} : { charts }),
      radius: {
        ...radius,
        how: route
          ? `GET /v1/geo/near radius_m=${sizes.queryRadiusM}`
          : `SQL on geo_trace (cube/earthdistance, GiST), no /v1/geo/near route yet; radius ${sizes.queryRadiusM} m`,
      },
    };
    progress.end();
    return out;
  } finally {
    await pool.end();
    await procs.stop();
    await db.drop().catch(() => {});
  }
}

/** Charts of a day and a week (rollup-backed) need a day of data at least: not at --quick sizes. */
const withWeek = (sizes: Sizes) => sizes.queryBusySeconds >= chartDaySecondsMin;

/** Rolls up the rows the bench loaded in SQL; returns the seconds it took. */
async function rollUpLoadedRows(ctx: ChartContext, pool: Pool, progress: Progress): Promise<number> {
  progress.start('scenario 4: rollups of the loaded rows');
  const seconds = await rebuildBenchRollups(ctx);
  await pool.query('VACUUM ANALYZE tmi.obs_rollup_1m');
  await pool.query('VACUUM ANALYZE tmi.obs_rollup_1h');
  return seconds;
}

/** What each query measurement needs. */
interface QueryContext {
  readonly apiUrl: string;
  readonly auth: Readonly<Record<string, string>>;
  readonly sizes: Sizes;
  readonly progress: Progress;
  readonly pool: Pool;
}

type QueryMeasurement = Percentiles & { rowsMean: number };

/** The k-th pseudo-random pick from `list`, the same on every run. */
const pick = (list: readonly string[], k: number) => list[Math.floor(noise(k, 7) * list.length)]!;

async function measureLatestState(ctx: QueryContext, allIds: readonly string[]): Promise<QueryMeasurement> {
  ctx.progress.start('scenario 4: latest state of one target');
  return measure(ctx.sizes.queryRuns, ctx.progress, async (k) => {
    const body = await getJson(`${ctx.apiUrl}/v1/targets/${pick(allIds, k)}`, ctx.auth);
    return Object.keys((body as { state: object }).state).length;
  });
}

async function measureDayByMinute(
  ctx: QueryContext,
  busyIds: readonly string[],
  day: number,
): Promise<QueryMeasurement> {
  ctx.progress.start('scenario 4: one day of 1 Hz data by minute');
  const from = new Date(day).toISOString();
  const to = new Date(day + ctx.sizes.queryBusySeconds * 1000).toISOString();
  return measure(ctx.sizes.queryBucketRuns, ctx.progress, async (k) => {
    const q = `from=${from}&to=${to}&bucket=1m&fields=speed,temp&limit=10000`;
    const body = await getJson(`${ctx.apiUrl}/v1/targets/${pick(busyIds, k)}/obs?${q}`, ctx.auth);
    return (body as { rows: unknown[] }).rows.length;
  });
}

/** The k-th radius query's centre, far enough inside the area that the circle fits. */
export function radiusCentre(radiusM: number, k: number): { lat: number; lon: number } {
  const margin = radiusM * degreesPerMetre;
  const lat = areaLatMin + margin + (areaLatMax - areaLatMin - 2 * margin) * noise(k, 11);
  const lonMargin = margin / Math.cos((lat * Math.PI) / 180);
  const lon = areaLonMin + lonMargin + (areaLonMax - areaLonMin - 2 * lonMargin) * noise(k, 13);
  return { lat, lon };
}

/** Radius queries through GET /v1/geo/near, or in SQL where this tmiDB has no such route. */
async function measureRadius(ctx: QueryContext): Promise<{ radius: QueryMeasurement; route: boolean }> {
  ctx.progress.start('scenario 4: radius query');
  const route = await geoNearRoute(ctx.apiUrl, ctx.auth);
  const radiusM = ctx.sizes.queryRadiusM;
  const radius = await measure(ctx.sizes.queryRuns, ctx.progress, async (k) => {
    const { lat, lon } = radiusCentre(radiusM, k);
    if (route) {
      const body = await getJson(
        `${ctx.apiUrl}/v1/geo/near?lat=${lat}&lon=${lon}&radius_m=${radiusM}&limit=1000`,
        ctx.auth,
      );
      return countRows(body);
    }
    const { rowCount } = await ctx.pool.query(radiusSql, [lat, lon, radiusM]);
    return rowCount ?? 0;
  });
  return { radius, route };
}

/** Targets within $3 metres of ($1, $2), nearest first: earth_box prefilter on the GiST index, exact distance. */
export const radiusSql = `SELECT target_id, earth_distance(ll_to_earth($1, $2), ll_to_earth(lat, lon)) AS distance_m
  FROM tmi.geo_trace
  WHERE earth_box(ll_to_earth($1, $2), $3) @> ll_to_earth(lat, lon)
    AND earth_distance(ll_to_earth($1, $2), ll_to_earth(lat, lon)) <= $3
  ORDER BY distance_m LIMIT 1000`;

async function geoNearRoute(apiUrl: string, auth: Readonly<Record<string, string>>): Promise<boolean> {
  const res = await fetch(`${apiUrl}/v1/geo/near?lat=0&lon=0&radius_m=1`, { headers: auth });
  const body = (await res.json().catch(() => ({}))) as { code?: string };
  return !(res.status === 404 && body.code === 'ROUTE_NOT_FOUND');
}

function countRows(body: unknown): number {
  if (Array.isArray(body)) return body.length;
  for (const v of Object.values(body as Record<string, unknown>)) if (Array.isArray(v)) return v.length;
  return 0;
}

export async function getJson(url: string, auth: Readonly<Record<string, string>>): Promise<unknown> {
  const res = await fetch(url, { headers: auth });
  const body = await res.json();
  if (res.status !== 200)
    throw new Error(`GET ${url} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}

export async function measure(
  runs: number,
  progress: Progress,
  run: (k: number) => Promise<number>,
): Promise<QueryMeasurement> {
  for (let k = 0; k < queryWarmupRuns; k++) await run(1_000_000 + k);
  const times: number[] = [];
  let rows = 0;
  for (let k = 0; k < runs; k++) {
    const started = performance.now();
    rows += await run(k);
    times.push(performance.now() - started);
    progress.update(k + 1, runs, 'runs');
  }
  const p = percentiles(times);
  const r = (v: number) => Math.round(v * 100) / 100;
  return {
    n: p.n,
    p50: r(p.p50),
    p95: r(p.p95),
    p99: r(p.p99),
    max: r(p.max),
    mean: r(p.mean),
    rowsMean: Math.round((rows / runs) * 10) / 10,
  };
}

interface LoadStep {
  readonly sql: string;
  readonly values: unknown[];
}

/** Fills the database; returns the busy day's start (epoch ms) and the ts_obs rows written. */
export async function loadQueryData(
  pool: Pool,
  sizes: Sizes,
  progress: Progress,
): Promise<{ day: number; obsRows: number }> {
  const busyRows = sizes.queryBusyTargets * sizes.queryBusySeconds;
  const quietTargets = sizes.queryTargets - sizes.queryBusyTargets;
  const quietRows = Math.max(0, sizes.queryObsRows - busyRows);
  const quietPerTarget = quietTargets > 0 ? Math.floor(quietRows / quietTargets) : 0;
  progress.start(
    `scenario 4: loading ${sizes.queryObsRows.toLocaleString('en-US')} ts_obs rows, ${sizes.queryTargets.toLocaleString('en-US')} targets`,
  );
  const { rows } = await pool.query<{ day: Date }>(
    `SELECT date_trunc('day', now() - interval '1 day') AS day`,
  );
  const day = rows[0]!.day.getTime();
  const dayIso = new Date(day).toISOString();
  await createBenchTargets(pool, sizes.queryTargets);
  const { rows: tables } = await pool.query<{ present: boolean }>(
    `SELECT to_regclass('tmi.target_position') IS NOT NULL AS present`,
  );
  const hasTargetPosition = tables[0]?.present === true;
  const steps = [...referenceSteps(hasTargetPosition), ...observationSteps(sizes, dayIso, quietPerTarget)];
  await runSteps(pool, steps, progress);
  await pool.query('DROP TABLE public.bench_target');
  progress.start('scenario 4: VACUUM ANALYZE');
  for (const table of [
    'target',
    'target_state',
    'geo_trace',
    'ts_obs',
    ...(hasTargetPosition ? ['target_position'] : []),
  ]) {
    await pool.query(`VACUUM ANALYZE tmi.${table}`);
  }
  const weekRows = withWeek(sizes) ? (weekPeriods - 1) * sizes.queryBusySeconds : 0;
  return { day, obsRows: busyRows + weekRows + quietPerTarget * quietTargets };
}

/** Each target's id and position, computed once (md5 per row would dominate the load). */
async function createBenchTargets(pool: Pool, targets: number): Promise<void> {
  await pool.query(
    `CREATE UNLOGGED TABLE public.bench_target AS
     SELECT i, ${idSql('i')} AS id,
            round((${areaLatMin} + ${areaLatMax - areaLatMin} * ${unitSql('lat', 'i')})::numeric, 6)::float8 AS lat,
            round((${areaLonMin} + ${areaLonMax - areaLonMin} * ${unitSql('lon', 'i')})::numeric, 6)::float8 AS lon,
            round((100 * ${unitSql('v', 'i')})::numeric, 2)::float8 AS v
     FROM generate_series(1, $1::int) i`,
    [targets],
  );
  await pool.query('CREATE UNIQUE INDEX ON public.bench_target (i)');
}

/** A vehicle reading at second `s` of target `t`, as a SQL expression. */
const payloadSql = (s: string) => `jsonb_build_object(
      'speed', round((40 + 40 * sin((${s} + t.i) / 60.0))::numeric, 1),
      'temp', round((20 + 3 * sin(${s} / 600.0))::numeric, 2),
      'fuel', round((1 - ((${s} + t.i * 13) % 5000) / 5000.0)::numeric, 3),
      'rpm', 900 + (${s} * 7 + t.i) % 2500,
      'status', (ARRAY['moving','idle','parked'])[1 + ((${s} / 120 + t.i) % 3)],
      'driver', 'driver-' || (t.i % 500),
      'lat', t.lat, 'lon', t.lon,
      'heading', (${s} / 60 * 37 + t.i) % 360)`;

/** The targets, their latest state and position, and the geo stage's read model where it exists. */
function referenceSteps(hasTargetPosition: boolean): LoadStep[] {
  const steps: LoadStep[] = [
    {
      sql: `INSERT INTO tmi.target (target_id, name, kind, meta)
            SELECT t.id, 'vehicle-' || t.i, $1, jsonb_build_object('fleet', 'f' || (t.i % 50)) FROM public.bench_target t`,
      values: [benchKind],
    },
    {
      // Latest state: ten fields per target, as the pipeline leaves them.
      sql: `INSERT INTO tmi.target_state (target_id, field, value, ts, event_id)
            SELECT t.id, f.field,
                   CASE f.field WHEN 'lat' THEN to_jsonb(t.lat) WHEN 'lon' THEN to_jsonb(t.lon)
                                WHEN 'status' THEN to_jsonb('moving'::text)
                                WHEN 'driver' THEN to_jsonb('driver-' || (t.i % 500))
                                ELSE to_jsonb(t.v) END,
                   now() - interval '1 minute', gen_random_uuid()
            FROM public.bench_target t
            CROSS JOIN unnest(ARRAY['speed','temp','fuel','rpm','odometer','status','driver','lat','lon','heading']) AS f(field)`,
      values: [],
    },
    {
      // The latest position of every target.
      sql: `INSERT INTO tmi.geo_trace (target_id, ts, event_id, lat, lon, speed, heading)
            SELECT t.id, now() - interval '1 minute', gen_random_uuid(), t.lat, t.lon, t.v, 0 FROM public.bench_target t`,
      values: [],
    },
  ];
  if (hasTargetPosition) {
    // The geo stage's read model of latest positions (what GET /v1/geo/near answers from).
    steps.push({
      sql: `INSERT INTO tmi.target_position (target_id, ts, event_id, lat, lon, speed, heading)
            SELECT t.id, now() - interval '1 minute', gen_random_uuid(), t.lat, t.lon, t.v, 0 FROM public.bench_target t`,
      values: [],
    });
  }
  return steps;
}

/** ts_obs rows: busy targets at 1 Hz through the busy day, quiet ones every 10 minutes before it. */
function observationSteps(sizes: Sizes, dayIso: string, quietPerTarget: number): LoadStep[] {
  const steps: LoadStep[] = [];
  for (let from = 1; from <= sizes.queryBusyTargets; from += busyTargetsPerStatement) {
    const to = Math.min(sizes.queryBusyTargets, from + busyTargetsPerStatement - 1);
    steps.push({
      sql: `INSERT INTO tmi.ts_obs (target_id, ts, event_id, schema_id, payload, received_at)
            SELECT t.id, $3::timestamptz + s * interval '1 second', gen_random_uuid(), 1, ${payloadSql('s')},
                   $3::timestamptz + s * interval '1 second'
            FROM public.bench_target t, generate_series(0, $4::int - 1) s WHERE t.i BETWEEN $1 AND $2`,
      values: [from, to, dayIso, sizes.queryBusySeconds],
    });
  }
  // The first busy target also has the days before: a week of 1 Hz data ending with the busy day.
  if (withWeek(sizes))
    steps.push({
      sql: `INSERT INTO tmi.ts_obs (target_id, ts, event_id, schema_id, payload, received_at)
          SELECT t.id, $1::timestamptz + s * interval '1 second', gen_random_uuid(), 1, ${payloadSql('s')},
                 $1::timestamptz + s * interval '1 second'
          FROM public.bench_target t, generate_series(-$2::int, -1) s WHERE t.i = 1`,
      values: [dayIso, (weekPeriods - 1) * sizes.queryBusySeconds],
    });
  if (quietPerTarget > 0) {
    for (
      let from = sizes.queryBusyTargets + 1;
      from <= sizes.queryTargets;
      from += quietTargetsPerStatement
    ) {
      const to = Math.min(sizes.queryTargets, from + quietTargetsPerStatement - 1);
      // Quiet targets report once every 10 minutes over the days before the busy day.
      steps.push({
        sql: `INSERT INTO tmi.ts_obs (target_id, ts, event_id, schema_id, payload, received_at)
              SELECT t.id, $3::timestamptz - (s + 1) * interval '10 minutes', gen_random_uuid(), 1, ${payloadSql('s')},
                     $3::timestamptz - (s + 1) * interval '10 minutes'
              FROM public.bench_target t, generate_series(0, $4::int - 1) s WHERE t.i BETWEEN $1 AND $2`,
        values: [from, to, dayIso, quietPerTarget],
      });
    }
  }
  return steps;
}

/** Runs the steps over `queryLoadConnections` connections at once. */
async function runSteps(pool: Pool, steps: readonly LoadStep[], progress: Progress): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < steps.length) {
      const step = steps[next++]!;
      await pool.query(step.sql, step.values);
      progress.update(++done, steps.length, 'load steps');
    }
  };
  await Promise.all(Array.from({ length: queryLoadConnections }, worker));
}

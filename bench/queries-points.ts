// SPDX-License-Identifier: MIT
// Scenario 4, the chart queries (issue 16, ADR 0027): `GET /obs?points=N` over one day and over a week of
// 1 Hz data, through the API (rollup-backed), and the same two in SQL alone, raw rows (what the route ran
// before the rollups) beside rollup-backed — before and after in one run, on the same rows.
import type { Pool } from '../db/index.js';
import { queryObsPoints, queryObsPointsRolledUp, rebuildRollups } from '../projections/index.js';
import type { Progress } from './progress.js';

/** The charts are measured when the busy period is at least this long (a day; not at --quick sizes). */
export const chartDaySecondsMin = 86_400;
/** Points a chart asks for (two per pixel column of a ~1,000 px chart). */
export const chartPoints = 2000;
/** The week target's range is this many busy periods (a week when the busy period is a day). */
export const weekPeriods = 7;
/** Runs of the raw-rows week query (seconds each before the rollups). */
const rawWeekRunsMax = 5;

export interface PointsFigures {
  readonly how: string;
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  readonly rowsMean: number;
}

export interface ChartQueriesResult {
  readonly days: { readonly day: number; readonly week: number };
  readonly rollupRebuildSeconds: number;
  readonly dayApi: PointsFigures;
  readonly weekApi: PointsFigures;
  readonly dayRawSql: PointsFigures;
  readonly weekRawSql: PointsFigures;
  readonly dayRollupSql: PointsFigures;
  readonly weekRollupSql: PointsFigures;
}

export interface ChartContext {
  readonly apiUrl: string;
  readonly auth: Readonly<Record<string, string>>;
  readonly pool: Pool;
  readonly progress: Progress;
  readonly runs: number;
  /** The busy day's start (epoch ms) and length (s); the week target has `weekPeriods` of them, ending with it. */
  readonly dayMs: number;
  readonly busySeconds: number;
  readonly busyIds: readonly string[];
  readonly weekId: string;
  readonly measure: (
    runs: number,
    progress: Progress,
    run: (k: number) => Promise<number>,
  ) => Promise<Omit<PointsFigures, 'how'>>;
  readonly getJson: (url: string, auth: Readonly<Record<string, string>>) => Promise<unknown>;
}

/**
 * The bench loads ts_obs in SQL, not through the pipeline, so the rollups of the rows it loaded are
 * computed here the way migration 012 computes them for existing data (tmi.obs_rollups_rebuild).
 */
export async function rebuildBenchRollups(ctx: ChartContext): Promise<number> {
  const started = performance.now();
  const periodsBefore = ctx.busySeconds >= chartDaySecondsMin ? weekPeriods - 1 : 0;
  const from = new Date(ctx.dayMs - periodsBefore * ctx.busySeconds * 1000).toISOString();
  const to = new Date(ctx.dayMs + ctx.busySeconds * 1000).toISOString();
  const ids = [...new Set([...ctx.busyIds, ctx.weekId])];
  for (let i = 0; i < ids.length; i++) {
    await rebuildRollups(ctx.pool, ids[i]!, from, to);
    ctx.progress.update(i + 1, ids.length, 'targets rolled up');
  }
  return Math.round((performance.now() - started) / 100) / 10;
}

export async function measureChartQueries(
  ctx: ChartContext,
  rebuildSeconds: number,
): Promise<ChartQueriesResult> {
  const fields = ['speed', 'temp'];
  const dayRange = { from: ctx.dayMs, to: ctx.dayMs + ctx.busySeconds * 1000 };
  const weekRange = { from: ctx.dayMs - (weekPeriods - 1) * ctx.busySeconds * 1000, to: dayRange.to };
  const api = (range: { from: number; to: number }, target: (k: number) => string) => async (k: number) => {
    const q = `fields=${fields.join(',')}&from=${new Date(range.from).toISOString()}&to=${new Date(range.to).toISOString()}&points=${chartPoints}`;
    const body = (await ctx.getJson(`${ctx.apiUrl}/v1/targets/${target(k)}/obs?${q}`, ctx.auth)) as {
      series: Record<string, { ts: unknown[] }>;
    };
    return Object.values(body.series).reduce((n, s) => n + s.ts.length, 0);
  };
  const sql = (range: { from: number; to: number }, rolled: boolean) => async () => {
    const q = {
      targetId: ctx.weekId,
      fromIso: new Date(range.from).toISOString(),
      toIso: new Date(range.to).toISOString(),
      fields,
      points: chartPoints,
    };
    const series = rolled ? await queryObsPointsRolledUp(ctx.pool, q) : await queryObsPoints(ctx.pool, q);
    return Object.values(series).reduce((n, s) => n + s.ts.length, 0);
  };
  const busy = (k: number) => ctx.busyIds[k % ctx.busyIds.length]!;
  const week = () => ctx.weekId;
  const step = async (name: string, how: string, runs: number, run: (k: number) => Promise<number>) => {
    ctx.progress.start(`scenario 4: ${name}`);
    return { ...(await ctx.measure(runs, ctx.progress, run)), how };
  };
  const rawRuns = Math.min(rawWeekRunsMax, ctx.runs);
  const http = `GET /v1/targets/{id}/obs?fields=speed,temp&points=${chartPoints}`;
  return {
    days: { day: ctx.busySeconds / 86_400, week: (weekPeriods * ctx.busySeconds) / 86_400 },
    rollupRebuildSeconds: rebuildSeconds,
    dayApi: await step('chart of a day (API)', `${http}, a day`, ctx.runs, api(dayRange, busy)),
    weekApi: await step('chart of a week (API)', `${http}, a week`, ctx.runs, api(weekRange, week)),
    dayRollupSql: await step(
      'points SQL, rollups, a day',
      'queryObsPointsRolledUp',
      ctx.runs,
      sql(dayRange, true),
    ),
    weekRollupSql: await step(
      'points SQL, rollups, a week',
      'queryObsPointsRolledUp',
      ctx.runs,
      sql(weekRange, true),
    ),
    dayRawSql: await step(
      'points SQL, raw rows, a day',
      'queryObsPoints (before rollups)',
      rawRuns,
      sql(dayRange, false),
    ),
    weekRawSql: await step(
      'points SQL, raw rows, a week',
      'queryObsPoints (before rollups)',
      rawRuns,
      sql(weekRange, false),
    ),
  };
}

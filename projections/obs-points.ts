// SPDX-License-Identifier: MIT
// GET /v1/targets/{id}/obs?points=N in SQL: per field and pixel column, the lowest and the highest
// numeric value (earliest on ties), as projections/downsample.ts defines it.
// Only those rows leave PostgreSQL, so a week of 1 Hz data costs one index range scan and a hash aggregate
// in the server, not 600,000 rows over the wire. Field names are bound parameters.
import type { Pool } from '../db/index.js';
import { columnPlan } from './downsample.js';
import { isoOf } from './sql.js';
import { fromMicrosSql } from './write.js';

export interface ObsPointsQuery {
  readonly targetId: string;
  /** Inclusive start, exclusive end (ISO-8601). */
  readonly fromIso: string;
  readonly toIso: string;
  readonly fields: readonly string[];
  readonly points: number;
}

/** Per field, its points in time order (columnar: ts[i] goes with value[i]). */
export type ObsSeries = Record<string, { ts: string[]; value: number[] }>;

export function obsPointsSql(q: ObsPointsQuery): { text: string; values: unknown[] } {
  const plan = columnPlan(isoMicros(q.fromIso), isoMicros(q.toIso), q.points);
  const text = `WITH parts AS (${rawPointParts('$1', '$4', '$2', '$3')}), ${minMaxPointsSql('$5', '$6')}`;
  return { text, values: [q.targetId, q.fromIso, q.toIso, q.fields, plan.widthMicros, plan.originMicros] };
}

/**
 * The numeric observations of fields `fields` (a text[] placeholder) of target `target` in [from, to) as
 * parts: each its own lowest and highest point (`at` places it in a column; t is µs since the epoch).
 */
export function rawPointParts(target: string, fields: string, from: string, to: string): string {
  return `SELECT f.field, o.ts AS at, (o.payload ->> f.field)::float8 AS lo_v, tmi.ts_micros(o.ts) AS lo_t,
             (o.payload ->> f.field)::float8 AS hi_v, tmi.ts_micros(o.ts) AS hi_t
      FROM tmi.ts_obs o CROSS JOIN unnest(${fields}::text[]) AS f(field)
      WHERE o.target_id = ${target}::uuid AND o.ts >= ${from}::timestamptz AND o.ts < ${to}::timestamptz
        AND jsonb_typeof(o.payload -> f.field) = 'number'`;
}

/**
 * From a CTE `parts(field, at, lo_v, lo_t, hi_v, hi_t)`: per field and column (width and origin in µs),
 * the lowest and highest point, in time order. One hash aggregate, no sort: min(ARRAY[v, t]) is the lowest
 * value, earliest on ties; max(ARRAY[v, -t]) the highest, earliest on ties (t exact in a float8).
 */
export function minMaxPointsSql(widthMicros: string, originMicros: string): string {
  return `cols AS (
      SELECT field, date_bin(${widthMicros}::bigint * interval '1 microsecond', at, ${fromMicrosSql(`${originMicros}::bigint`)}) AS col,
             min(ARRAY[lo_v, lo_t]) AS lo, max(ARRAY[hi_v, -hi_t]) AS hi
      FROM parts GROUP BY field, col
    ), points AS (
      SELECT field, lo[2] AS t, lo[1] AS v FROM cols UNION SELECT field, -hi[2] AS t, hi[1] AS v FROM cols
    )
    SELECT field, ${isoOf("(timestamptz 'epoch' + t::bigint * interval '1 microsecond')")} AS ts, v
    FROM points ORDER BY field, t, v`;
}

/** `2026-11-22T10:00:00.123456Z` → µs (Date.parse keeps only the milliseconds). */
export function isoMicros(iso: string): number {
  const micros = /\.\d{3}(\d{1,3})/.exec(iso)?.[1]?.padEnd(3, '0') ?? '0';
  return Date.parse(iso) * 1000 + Number(micros);
}

export async function queryObsPoints(pool: Pool, q: ObsPointsQuery): Promise<ObsSeries> {
  const { text, values } = obsPointsSql(q);
  const { rows } = await pool.query<PointRow>(text, values);
  return seriesOf(q.fields, rows);
}

export interface PointRow {
  readonly field: string;
  readonly ts: string;
  readonly v: number;
}

/** Rows in (field, time) order → columnar series per field. */
export function seriesOf(fields: readonly string[], rows: readonly PointRow[]): ObsSeries {
  // fromEntries: a field named `__proto__` stays a field.
  const series: ObsSeries = Object.fromEntries(fields.map((f) => [f, { ts: [], value: [] }]));
  for (const r of rows) {
    series[r.field]!.ts.push(r.ts);
    series[r.field]!.value.push(r.v);
  }
  return series;
}

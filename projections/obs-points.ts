// SPDX-License-Identifier: MIT
// GET /v1/targets/{id}/obs?points=N in SQL: per field and pixel column, the lowest and the highest
// numeric value (earliest on ties), as projections/downsample.ts defines it.
// Only those rows leave PostgreSQL, so a week of 1 Hz data costs one index range scan and a hash aggregate
// in the server, not 600,000 rows over the wire. Field names are bound parameters.
import type { Pool } from '../db/index.js';
import { columnPlan } from './downsample.js';
import { isoOf } from './sql.js';

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
  // One hash aggregate, no sort: min(ARRAY[v, t]) is the lowest value, earliest on ties;
  // max(ARRAY[v, -t]) the highest, earliest on ties. t is µs since the epoch (exact in a float8).
  const text = `WITH obs AS (
      SELECT f.field, date_bin($5::bigint * interval '1 microsecond', o.ts, $2::timestamptz) AS col,
             (o.payload ->> f.field)::float8 AS v, (extract(epoch FROM o.ts) * 1000000)::float8 AS t
      FROM tmi.ts_obs o CROSS JOIN unnest($4::text[]) AS f(field)
      WHERE o.target_id = $1::uuid AND o.ts >= $2::timestamptz AND o.ts < $3::timestamptz
        AND jsonb_typeof(o.payload -> f.field) = 'number'
    ), cols AS (
      SELECT field, min(ARRAY[v, t]) AS lo, max(ARRAY[v, -t]) AS hi FROM obs GROUP BY field, col
    ), points AS (
      SELECT field, lo[2] AS t, lo[1] AS v FROM cols UNION SELECT field, -hi[2] AS t, hi[1] AS v FROM cols
    )
    SELECT field, ${isoOf("(timestamptz 'epoch' + t::bigint * interval '1 microsecond')")} AS ts, v
    FROM points ORDER BY field, t, v`;
  return { text, values: [q.targetId, q.fromIso, q.toIso, q.fields, plan.widthMicros] };
}

/** `2026-11-22T10:00:00.123456Z` → µs (Date.parse keeps only the milliseconds). */
function isoMicros(iso: string): number {
  const micros = /\.\d{3}(\d{1,3})/.exec(iso)?.[1]?.padEnd(3, '0') ?? '0';
  return Date.parse(iso) * 1000 + Number(micros);
}

export async function queryObsPoints(pool: Pool, q: ObsPointsQuery): Promise<ObsSeries> {
  const { text, values } = obsPointsSql(q);
  const { rows } = await pool.query<{ field: string; ts: string; v: number }>(text, values);
  // fromEntries: a field named `__proto__` stays a field.
  const series: ObsSeries = Object.fromEntries(q.fields.map((f) => [f, { ts: [], value: [] }]));
  for (const r of rows) {
    series[r.field]!.ts.push(r.ts);
    series[r.field]!.value.push(r.v);
  }
  return series;
}

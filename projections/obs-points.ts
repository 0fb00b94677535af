// SPDX-License-Identifier: MIT
// GET /v1/targets/{id}/obs?points=N in SQL: per field and pixel column, the lowest and the highest
// numeric value (earliest, then lowest event_id, on ties), as projections/downsample.ts defines it.
// Only those rows leave PostgreSQL, so a week of 1 Hz data costs one index range scan and two sorts
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
  const text = `WITH obs AS (
      SELECT f.field, o.ts, o.event_id, (o.payload ->> f.field)::double precision AS v,
             date_bin($5::bigint * interval '1 microsecond', o.ts, $2::timestamptz) AS col
      FROM tmi.ts_obs o CROSS JOIN unnest($4::text[]) AS f(field)
      WHERE o.target_id = $1::uuid AND o.ts >= $2::timestamptz AND o.ts < $3::timestamptz
        AND jsonb_typeof(o.payload -> f.field) = 'number'
    ), low AS (
      SELECT DISTINCT ON (field, col) field, ts, event_id, v FROM obs ORDER BY field, col, v, ts, event_id
    ), high AS (
      SELECT DISTINCT ON (field, col) field, ts, event_id, v FROM obs ORDER BY field, col, v DESC, ts, event_id
    )
    SELECT field, ${isoOf('ts')} AS ts, v FROM (SELECT * FROM low UNION SELECT * FROM high) p
    ORDER BY field, p.ts, event_id`;
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

// SPDX-License-Identifier: MIT
// GET /v1/targets/{id}/obs from the rollups (migration 012, ADR 0027) where they answer exactly the same as
// the raw rows: buckets that are whole minutes (or hours) read the rollup rows inside the range, and only
// the partial minutes (hours) at its edges are aggregated from ts_obs (tmi.obs_cells, the same definition
// of a cell the rollups are rebuilt from); the parts are then combined per requested bucket. Everything
// else is answered by the raw queries (projections/obs.ts, projections/obs-points.ts).
import type { Pool } from '../db/index.js';
import { columnPlan } from './downsample.js';
import {
  type BucketSqlRow,
  bucketCellsJson,
  bucketColumns,
  bucketOrigin,
  bucketPage,
  exactSumAvg,
  type ObsQuery,
  type ObsResult,
  type ObsSql,
  Params,
  queryObs,
} from './obs.js';
import {
  isoMicros,
  minMaxPointsSql,
  type ObsPointsQuery,
  type ObsSeries,
  type PointRow,
  queryObsPoints,
  rawPointParts,
  seriesOf,
} from './obs-points.js';
import { type RollupWidth, rollupTable } from './rollups.js';

/** [from, to) in µs; ±Infinity when unbounded. */
export interface MicrosRange {
  readonly fromUs: number;
  readonly toUs: number;
}

/** A range cut into whole rollup buckets (`inner`) and the partial ones at its edges (raw rows). */
export interface RangeSplit {
  readonly inner?: MicrosRange;
  readonly edges: readonly MicrosRange[];
}

/** Splits [from, to) at the first and last boundary of `unitUs` (the grid of 2000-01-01, also epoch's). */
export function splitRange(range: MicrosRange, unitUs: number): RangeSplit {
  const { fromUs, toUs } = range;
  if (!(fromUs < toUs)) return { edges: [] };
  const innerFrom = Number.isFinite(fromUs) ? Math.ceil(fromUs / unitUs) * unitUs : fromUs;
  const innerTo = Number.isFinite(toUs) ? Math.floor(toUs / unitUs) * unitUs : toUs;
  if (!(innerFrom < innerTo)) return { edges: [range] };
  const edges: MicrosRange[] = [];
  if (fromUs < innerFrom) edges.push({ fromUs, toUs: innerFrom });
  if (innerTo < toUs) edges.push({ fromUs: innerTo, toUs });
  return { inner: { fromUs: innerFrom, toUs: innerTo }, edges };
}

/** µs → a timestamptz literal PostgreSQL reads exactly ('infinity' when unbounded). */
export function microsLiteral(us: number): string {
  if (!Number.isFinite(us)) return us > 0 ? 'infinity' : '-infinity';
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

/** The rollup a bucket of `seconds` is made of, if any: an hour, else a minute. */
export function rollupFor(seconds: number): RollupWidth | undefined {
  if (seconds % 3600 === 0) return 3600;
  if (seconds % 60 === 0) return 60;
  return undefined;
}

// ── buckets ─────────────────────────────────────────────────────────────────

/** Bucketed obs from the rollups where the bucket allows; identical to queryObs by construction. */
export async function queryObsRolledUp(pool: Pool, q: ObsQuery): Promise<ObsResult> {
  const unit = q.bucket === undefined ? undefined : rollupFor(q.bucket.seconds);
  if (unit === undefined || q.fields === undefined || q.fields.length === 0) return queryObs(pool, q);
  const sql = rolledUpBucketSql(q, unit);
  if (sql === undefined) return { mode: 'bucket', rows: [] };
  const { rows } = await pool.query<{ cells: string }>(sql.text, sql.values);
  return bucketPage(JSON.parse(rows[0]!.cells) as BucketSqlRow[], q);
}

/** The query's effective range, narrowed by its cursor (bucket-aligned, so a plain bound). */
function bucketRange(q: ObsQuery, widthUs: number): MicrosRange {
  let fromUs = q.fromIso === undefined ? Number.NEGATIVE_INFINITY : isoMicros(q.fromIso);
  let toUs = q.toIso === undefined ? Number.POSITIVE_INFINITY : isoMicros(q.toIso);
  if (q.after !== undefined) {
    const afterUs = isoMicros(q.after.ts);
    if (q.order === 'asc') fromUs = Math.max(fromUs, afterUs + widthUs);
    else toUs = Math.min(toUs, afterUs);
  }
  return { fromUs, toUs };
}

const cellColumns =
  'count, num_count, sum, min, max, first_ts, first_event, first_value, last_ts, last_event, last_value';

/** The SQL of a rollup-backed bucketed query; undefined when its range is empty. */
export function rolledUpBucketSql(q: ObsQuery, unit: RollupWidth): ObsSql | undefined {
  const bucket = q.bucket!;
  const split = splitRange(bucketRange(q, bucket.seconds * 1_000_000), unit * 1_000_000);
  const p = new Params();
  const target = `${p.add(q.targetId)}::uuid`;
  const fields = `${p.add(q.fields)}::text[]`;
  const at = (us: number) => `${p.add(microsLiteral(us))}::timestamptz`;
  const parts: string[] = [];
  if (split.inner !== undefined) {
    parts.push(`SELECT r.bucket AS part, r.field, ${cellColumns} FROM ${rollupTable(unit)} r
      WHERE r.target_id = ${target} AND r.field = ANY (${fields})
        AND r.bucket >= ${at(split.inner.fromUs)} AND r.bucket < ${at(split.inner.toUs)}`);
  }
  for (const edge of split.edges) {
    parts.push(`SELECT c.bucket AS part, c.field, ${cellColumns}
      FROM tmi.obs_cells(${target}, ${fields}, ${at(edge.fromUs)}, ${at(edge.toUs)}, interval '${unit} seconds') c`);
  }
  if (parts.length === 0) return undefined;
  const aggs = new Set(q.aggs ?? []);
  // Parameters only where they are used: an unused one has no type PostgreSQL can infer.
  const agg =
    bucket.seconds === unit
      ? oneCellPerBucket(aggs)
      : cellsCombined(aggs, `(${p.add(bucket.seconds)}::integer * interval '1 second')`);
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  // No page of distinct buckets joined back (a third of the statement's time): a bucket has at most one row
  // per field, so (limit + 1) × fields rows in bucket order hold the page's buckets whole and tell whether
  // another follows (bucketPage cuts there); fewer rows than that are all there is.
  // The cells leave as one text, a JSON array of BucketSqlRow: one value for node-pg to read and one
  // JSON.parse in Node, instead of a protocol row and seven strings per cell (most of the API's parsing).
  const text = `WITH parts AS (${parts.join('\n      UNION ALL ')}
    ), agg AS (${agg}
    ), c AS (
      SELECT a.bucket, ${bucketColumns(fields)}
      FROM agg a
      ORDER BY a.bucket ${dir}
      LIMIT ${p.add((q.limit + 1) * q.fields!.length)}
    )
    SELECT ${bucketCellsJson(dir)} AS cells FROM c`;
  return { text, values: p.values };
}

/** Requested buckets made of several cells (an hour of minutes, a day of hours): the cells combined. */
function cellsCombined(aggs: ReadonlySet<string>, width: string): string {
  return `
      SELECT date_bin(${width}, part, ${bucketOrigin}) AS bucket, field, sum(count) AS count,
             ${exactSumAvg('sum(sum)', 'sum(num_count)', aggs)}, min(min) AS min, max(max) AS max,
             ${aggs.has('first') ? '(array_agg(first_value ORDER BY first_ts, first_event))[1]' : 'NULL'} AS first,
             ${aggs.has('last') ? '(array_agg(last_value ORDER BY last_ts DESC, last_event DESC))[1]' : 'NULL'} AS last
      FROM parts GROUP BY 1, field`;
}

/**
 * Requested buckets as wide as the rollup: each (bucket, field) is exactly one part — a rollup row inside
 * the range or the edge cell computed from raw rows, never both (the split does not overlap) — so the
 * cell is the answer and grouping (half the query's time for a day by minute) is skipped.
 */
function oneCellPerBucket(aggs: ReadonlySet<string>): string {
  return `
      SELECT part AS bucket, field, count, ${exactSumAvg('sum', 'num_count', aggs)}, min, max,
             ${aggs.has('first') ? 'first_value' : 'NULL'} AS first, ${aggs.has('last') ? 'last_value' : 'NULL'} AS last
      FROM parts`;
}

// ── points ──────────────────────────────────────────────────────────────────

/** Downsampled obs from the rollups when the columns are whole minutes or hours (columnPlan says). */
export async function queryObsPointsRolledUp(pool: Pool, q: ObsPointsQuery): Promise<ObsSeries> {
  const sql = rolledUpPointsSql(q);
  if (sql === undefined) return queryObsPoints(pool, q);
  const { rows } = await pool.query<PointRow>(sql.text, sql.values);
  return seriesOf(q.fields, rows);
}

/** The SQL of rollup-backed points; undefined when the columns are narrower than a minute. */
export function rolledUpPointsSql(q: ObsPointsQuery): ObsSql | undefined {
  const range = { fromUs: isoMicros(q.fromIso), toUs: isoMicros(q.toIso) };
  const plan = columnPlan(range.fromUs, range.toUs, q.points);
  if (plan.rollupSeconds === undefined) return undefined;
  const split = splitRange(range, plan.rollupSeconds * 1_000_000);
  const p = new Params();
  const target = p.add(q.targetId);
  const fields = p.add(q.fields);
  const at = (us: number) => p.add(microsLiteral(us));
  const parts: string[] = [];
  if (split.inner !== undefined) {
    parts.push(`SELECT r.field, r.bucket AS at, r.min AS lo_v, r.min_us::float8 AS lo_t,
             r.max AS hi_v, r.max_us::float8 AS hi_t
      FROM ${rollupTable(plan.rollupSeconds)} r
      WHERE r.target_id = ${target}::uuid AND r.field = ANY (${fields}::text[]) AND r.num_count > 0
        AND r.bucket >= ${at(split.inner.fromUs)}::timestamptz AND r.bucket < ${at(split.inner.toUs)}::timestamptz`);
  }
  for (const edge of split.edges) {
    parts.push(rawPointParts(target, fields, at(edge.fromUs), at(edge.toUs)));
  }
  const text = `WITH parts AS (${parts.join('\n      UNION ALL ')}
    ), ${minMaxPointsSql(p.add(plan.widthMicros), p.add(plan.originMicros))}`;
  return { text, values: p.values };
}

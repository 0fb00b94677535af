// SPDX-License-Identifier: MIT
// Time series of one target from tmi.ts_obs: raw observations (keyset-paged by ts, event_id) or
// date_bin buckets with per-field aggregates. Field names are always bound parameters (a text[]);
// the SQL text only varies by which fixed clauses are present, so nothing a caller sends is spliced in.
// Every scan filters on target_id and a ts range, so it runs on the (target_id, ts, event_id) key.
import type { Pool } from '../db/index.js';
import { invariant } from '../errors/index.js';
import { isoOf } from './sql.js';

export type ObsAgg = 'avg' | 'min' | 'max' | 'last' | 'count' | 'first' | 'sum';
export const obsAggs: readonly ObsAgg[] = ['avg', 'min', 'max', 'last', 'count', 'first', 'sum'];

/** Where the previous page ended: its last row's ts (and event_id in raw mode), or its last bucket's start. */
export interface ObsCursor {
  /** ISO-8601 with microseconds, UTC. */
  readonly ts: string;
  readonly eventId?: string;
}

export interface ObsQuery {
  readonly targetId: string;
  /** Inclusive lower bound (ISO-8601). */
  readonly fromIso?: string;
  /** Exclusive upper bound (ISO-8601). */
  readonly toIso?: string;
  readonly fields?: readonly string[];
  readonly bucket?: { readonly seconds: number; readonly text: string };
  readonly aggs?: readonly ObsAgg[];
  readonly limit: number;
  readonly order: 'asc' | 'desc';
  readonly after?: ObsCursor;
}

export interface RawObsRow {
  readonly ts: string;
  readonly event_id: string;
  readonly data: Record<string, unknown>;
}

/** Aggregates of one field in one bucket: numbers (null without numeric values), count, JSON first/last. */
export type FieldAggregates = Partial<Record<ObsAgg, unknown>>;

export interface BucketObsRow {
  readonly bucket_start: string;
  readonly fields: Record<string, FieldAggregates>;
}

export type ObsResult =
  | { readonly mode: 'raw'; readonly rows: RawObsRow[]; readonly next?: ObsCursor }
  | { readonly mode: 'bucket'; readonly rows: BucketObsRow[]; readonly next?: ObsCursor };

export interface ObsSql {
  readonly text: string;
  readonly values: unknown[];
}

/** The bucket grid's origin: buckets of one size line up across queries and pages. */
export const bucketOrigin = `timestamptz '2000-01-01 00:00:00+00'`;

/** Collects bound values and hands out their placeholders. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export async function queryObs(pool: Pool, q: ObsQuery): Promise<ObsResult> {
  return q.bucket === undefined ? queryRaw(pool, q) : queryBuckets(pool, q);
}

/** target_id and the [from, to) range: the key's leading columns, and what prunes partitions. */
function rangeConditions(p: Params, q: ObsQuery, target: string): string[] {
  const where = [`o.target_id = ${target}::uuid`];
  if (q.fromIso !== undefined) where.push(`o.ts >= ${p.add(q.fromIso)}::timestamptz`);
  if (q.toIso !== undefined) where.push(`o.ts < ${p.add(q.toIso)}::timestamptz`);
  return where;
}

// ── raw ─────────────────────────────────────────────────────────────────────

export function rawObsSql(q: ObsQuery): ObsSql {
  const p = new Params();
  const where = rangeConditions(p, q, p.add(q.targetId));
  const fields = q.fields !== undefined && q.fields.length > 0 ? `${p.add(q.fields)}::text[]` : undefined;
  // ?| skips events holding none of the fields before the mask is built.
  if (fields !== undefined) where.push(`o.payload ?| ${fields}`);
  if (q.after !== undefined) where.push(rawKeyset(p, q.after, q.order));
  const data =
    fields === undefined
      ? 'o.payload'
      : `(SELECT jsonb_object_agg(f, o.payload -> f) FROM unnest(${fields}) AS f WHERE o.payload ? f)`;
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  const text = `SELECT ${isoOf('o.ts')} AS ts, o.event_id, ${data} AS data
    FROM tmi.ts_obs o
    WHERE ${where.join(' AND ')}
    ORDER BY o.ts ${dir}, o.event_id ${dir}
    LIMIT ${p.add(q.limit + 1)}`;
  return { text, values: p.values };
}

/** Rows after the cursor; the plain ts bound is redundant but lets partitions be pruned. */
function rawKeyset(p: Params, after: ObsCursor, order: 'asc' | 'desc'): string {
  if (after.eventId === undefined) throw new Error('a raw-mode cursor needs an event id');
  const ts = `${p.add(after.ts)}::timestamptz`;
  const id = `${p.add(after.eventId)}::uuid`;
  return order === 'asc'
    ? `o.ts >= ${ts} AND (o.ts, o.event_id) > (${ts}, ${id})`
    : `o.ts <= ${ts} AND (o.ts, o.event_id) < (${ts}, ${id})`;
}

async function queryRaw(pool: Pool, q: ObsQuery): Promise<ObsResult> {
  const { text, values } = rawObsSql(q);
  const { rows } = await pool.query<RawObsRow>(text, values);
  if (rows.length <= q.limit) return { mode: 'raw', rows };
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1]!;
  return { mode: 'raw', rows: page, next: { ts: last.ts, eventId: last.event_id } };
}

// ── buckets ─────────────────────────────────────────────────────────────────

/**
 * One bucket × field cell as the SQL returns it, as an array (columns in the order `bucketColumns` lists
 * them): the bucket as seconds since the epoch, formatted in Node once per bucket (PostgreSQL formats it,
 * `bucket_text`, only outside the years 1–9999, where JavaScript's ISO form differs from `to_char`'s), and
 * the field as its index in the query's `fields`.
 */
export type BucketSqlRow = [
  bucket_s: number,
  bucket_text: string | null,
  field: number,
  count: number | string,
  /** numeric text (exact) or its JSON number, made a double by toDouble; null when not asked for. */
  avg: string | number | null,
  min: number | null,
  max: number | null,
  /** numeric text (exact) or its JSON number, made a double by toDouble; null when not asked for. */
  sum: string | number | null,
  first: unknown,
  last: unknown,
];

/** The columns of a BucketSqlRow from a relation `a` of (bucket, field, aggregates); `fields` a text[]. */
export function bucketColumns(fields: string, first = 'a.first', last = 'a.last'): string {
  return `date_part('epoch', a.bucket) AS bucket_s,
           CASE WHEN a.bucket < timestamptz '0001-01-01 00:00:00+00' OR a.bucket >= timestamptz '10000-01-01 00:00:00+00'
                THEN ${isoOf('a.bucket')} END AS bucket_text,
           array_position(${fields}, a.field) - 1 AS field, a.count, a.avg, a.min, a.max, a.sum,
           ${first} AS first, ${last} AS last`;
}

/**
 * The rows of a relation `c` with bucketColumns' columns as one JSON text: an array of BucketSqlRow. Each
 * value is the very text its column would carry (numeric, float8, bigint and jsonb output), so JSON.parse
 * gives what node-pg's parsers give (a numeric's text read as a JSON number is the double Number reads), and
 * no value needs escaping (fields are indexes; bucket_text is digits and punctuation).
 */
export function bucketCellsJson(dir: 'ASC' | 'DESC'): string {
  const orNull = (column: string) => `coalesce(c.${column}::text, 'null')`;
  const cell = [
    'c.bucket_s',
    `coalesce('"' || c.bucket_text || '"', 'null')`,
    'c.field',
    'c.count',
    ...['avg', 'min', 'max', 'sum', 'first', 'last'].map(orNull),
  ].join(` || ',' || `);
  return `'[' || coalesce(string_agg('[' || ${cell} || ']', ',' ORDER BY c.bucket ${dir}), '') || ']'`;
}

export function bucketObsSql(q: ObsQuery): ObsSql {
  if (q.bucket === undefined || q.fields === undefined || q.fields.length === 0) {
    throw new Error('bucketed obs queries need a bucket and at least one field');
  }
  const p = new Params();
  const target = p.add(q.targetId);
  const where = rangeConditions(p, q, target);
  const width = `(${p.add(q.bucket.seconds)}::integer * interval '1 second')`;
  if (q.after !== undefined) where.push(bucketKeyset(p, q.after, q.order, width));
  const fields = `${p.add(q.fields)}::text[]`;
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  const aggs = new Set(q.aggs ?? []);
  const text = `WITH obs AS (
      SELECT date_bin(${width}, o.ts, ${bucketOrigin}) AS bucket, f.field, o.ts,
             CASE WHEN jsonb_typeof(o.payload -> f.field) = 'number'
                  THEN (o.payload ->> f.field)::double precision END AS num,
             CASE WHEN jsonb_typeof(o.payload -> f.field) = 'number' THEN (o.payload ->> f.field)::numeric END AS dec
      FROM tmi.ts_obs o CROSS JOIN unnest(${fields}) AS f(field)
      WHERE ${where.join(' AND ')} AND o.payload ? f.field
    ), agg AS (
      SELECT bucket, field, count(*) AS count, ${exactSumAvg('sum(dec)', 'count(num)', aggs)},
             min(num) AS min, max(num) AS max, min(ts) AS first_ts, max(ts) AS last_ts
      FROM obs GROUP BY bucket, field
    ), page AS (
      SELECT DISTINCT bucket FROM agg ORDER BY bucket ${dir} LIMIT ${p.add(q.limit + 1)}
    )
    SELECT ${bucketColumns(
      fields,
      aggs.has('first') ? valueAt(target, 'a.first_ts', 'ASC') : 'NULL',
      aggs.has('last') ? valueAt(target, 'a.last_ts', 'DESC') : 'NULL',
    )}
    FROM agg a JOIN page USING (bucket)
    ORDER BY a.bucket ${dir}, a.field`;
  return { text, values: p.values };
}

/**
 * sum and avg from the exact (numeric) sum of the values as JSON holds them: the same whatever order the
 * rows are added in, so the rollup-backed answer (projections/obs-rollups.ts) is identical, not just close.
 * Both leave PostgreSQL as numeric text and become doubles in `toDouble`: tmi.float8_of in SQL inlined its
 * argument four times (the division ran four times per cell, most of a day-by-minute query's execution).
 */
export function exactSumAvg(numericSum: string, numericCount: string, aggs: ReadonlySet<string>): string {
  // Only what was asked for: a numeric division and numeric text per cell are most of what they cost.
  const sum = aggs.has('sum') ? numericSum : 'NULL::numeric';
  const avg = aggs.has('avg') ? `${numericSum} / nullif(${numericCount}, 0)` : 'NULL::numeric';
  return `${sum} AS sum, ${avg} AS avg`;
}

/**
 * A numeric's text as the nearest double — what tmi.float8_of gives in SQL: both round the exact decimal
 * correctly (PostgreSQL's numeric → float8 goes through strtod), beyond float8's range both give ±Infinity
 * (JSON null) or zero. null stays null.
 */
export function toDouble(numeric: string | number | null): number | null {
  return numeric === null ? null : Number(numeric);
}

/** Buckets after the cursor's bucket: the grid is fixed, so that is a plain ts bound. */
function bucketKeyset(p: Params, after: ObsCursor, order: 'asc' | 'desc', width: string): string {
  const start = `${p.add(after.ts)}::timestamptz`;
  return order === 'asc' ? `o.ts >= ${start} + ${width}` : `o.ts < ${start}`;
}

/**
 * The field's value at the bucket's first/last observation time: one index probe per bucket and field
 * instead of collecting every value of the bucket. Ties on ts go by event_id, as in raw mode.
 */
function valueAt(target: string, tsColumn: string, dir: 'ASC' | 'DESC'): string {
  return `(SELECT l.payload -> a.field FROM tmi.ts_obs l
     WHERE l.target_id = ${target}::uuid AND l.ts = ${tsColumn} AND l.payload ? a.field
     ORDER BY l.event_id ${dir} LIMIT 1)`;
}

async function queryBuckets(pool: Pool, q: ObsQuery): Promise<ObsResult> {
  const { text, values } = bucketObsSql(q);
  const { rows } = await pool.query<BucketSqlRow>({ text, values, rowMode: 'array' });
  return bucketPage(rows, q);
}

/** The page of a bucketed query from its SQL rows (limit + 1 buckets: one more means a next page). */
export function bucketPage(rows: readonly BucketSqlRow[], q: ObsQuery): ObsResult {
  const buckets = groupBuckets(rows, q.fields ?? [], q.aggs ?? []);
  if (buckets.length <= q.limit) return { mode: 'bucket', rows: buckets };
  const page = buckets.slice(0, q.limit);
  return { mode: 'bucket', rows: page, next: { ts: page[page.length - 1]!.bucket_start } };
}

/**
 * One row per bucket (in query order); every requested field present, in the order asked, with count 0
 * where it had no data. Built with plain loops: a day by minute makes 1,440 buckets, and the closures and
 * fromEntries per cell this replaced took ~10 ms of CPU per request (plus the GC of what they made). Rows
 * of one bucket are adjacent (the SQL orders by bucket); their order within it does not matter.
 */
function groupBuckets(
  rows: readonly BucketSqlRow[],
  fields: readonly string[],
  asked: readonly ObsAgg[],
): BucketObsRow[] {
  const out: BucketObsRow[] = [];
  // A field's slot by its index in `fields` (a name asked twice fills the slot of its last mention).
  const named = new Map(fields.map((f, i) => [f, i]));
  const slots = fields.map((f) => named.get(f)!);
  const ordered = aggsInAnswerOrder.filter((a) => asked.includes(a));
  const starts = new BucketStartFormatter();
  let start: number | undefined;
  let text: string | null = null;
  let cells: (FieldAggregates | undefined)[] = [];
  const flush = () => {
    if (start !== undefined)
      out.push({ bucket_start: starts.format(start, text), fields: fieldsOf(fields, cells, ordered) });
  };
  for (const r of rows) {
    if (r[0] !== start) {
      flush();
      start = r[0];
      text = r[1];
      cells = new Array(fields.length);
    }
    const slot = slots[r[2]];
    if (slot !== undefined) cells[slot] = pickAggs(r, ordered);
  }
  flush();
  return out;
}

/**
 * A bucket's start as the API writes it (`to_char`'s `YYYY-MM-DD"T"HH24:MI:SS.US"Z"`): buckets lie on a grid
 * of whole seconds from 2000-01-01, so the microseconds are always zero; SQL's own text outside years 1–9999.
 * The date is formatted once per day (`Date#toISOString` per bucket was ~1 µs, 1.4 ms of a day by minute).
 */
export class BucketStartFormatter {
  #day = Number.NaN;
  #date = '';

  format(seconds: number, sqlText: string | null): string {
    if (sqlText !== null) return sqlText;
    invariant(Number.isInteger(seconds), `bucket start ${seconds} s is not on the grid of whole seconds`);
    const day = Math.floor(seconds / 86_400);
    if (day !== this.#day) {
      this.#day = day;
      this.#date = new Date(day * 86_400_000).toISOString().slice(0, 11); // YYYY-MM-DDT
    }
    const inDay = seconds - day * 86_400;
    const h = Math.floor(inDay / 3600);
    const m = Math.floor((inDay - h * 3600) / 60);
    const s = inDay - h * 3600 - m * 60;
    return `${this.#date}${twoDigits(h)}:${twoDigits(m)}:${twoDigits(s)}.000000Z`;
  }
}

const twoDigits = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * The aggregates of a field in the order the API's schema lists them (api/routes/obs.ts writes bucket pages
 * with JSON.stringify, which follows the objects' order, the schema serializer the schema's).
 */
export const aggsInAnswerOrder: readonly ObsAgg[] = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'];

/** Own properties in the order asked; a field named `__proto__` stays a field (defined, not assigned). */
function fieldsOf(
  fields: readonly string[],
  cells: readonly (FieldAggregates | undefined)[],
  aggs: readonly ObsAgg[],
): Record<string, FieldAggregates> {
  const out: Record<string, FieldAggregates> = {};
  for (let i = 0; i < fields.length; i++) {
    const value = cells[i] ?? emptyAggs(aggs);
    if (fields[i] === '__proto__') {
      Object.defineProperty(out, '__proto__', {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else out[fields[i]!] = value;
  }
  return out;
}

/** The aggregates of a field without data in a bucket (aggregate names are fixed words, never `__proto__`). */
function emptyAggs(aggs: readonly ObsAgg[]): FieldAggregates {
  const out: FieldAggregates = {};
  for (const a of aggs) out[a] = a === 'count' ? 0 : null;
  return out;
}

function pickAggs(r: BucketSqlRow, aggs: readonly ObsAgg[]): FieldAggregates {
  const out: FieldAggregates = {};
  for (const a of aggs) out[a] = aggValue(r, a);
  return out;
}

function aggValue(r: BucketSqlRow, agg: ObsAgg): unknown {
  switch (agg) {
    case 'avg':
      return toDouble(r[4]);
    case 'min':
      return r[5] ?? null;
    case 'max':
      return r[6] ?? null;
    case 'sum':
      return toDouble(r[7]);
    case 'count':
      return Number(r[3]);
    case 'first':
      return r[8] ?? null;
    case 'last':
      return r[9] ?? null;
  }
}

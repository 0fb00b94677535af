// SPDX-License-Identifier: MIT
// The geo read model: geo_trace (every position, partitioned by time) and target_position (the newest
// position per target). Radius queries use cube + earthdistance (no PostGIS): the GiST index on
// tmi.ll_to_earth(lat, lon) (migration 015) answers the earth_box prefilter, earth_distance the exact test.
import type { Pool, PoolClient } from '../db/index.js';
import { isoOf } from './sql.js';

/** A target's position as the API shows it. */
export interface PositionOut {
  /** Observation time, ISO-8601 with microseconds. */
  readonly ts: string;
  readonly event_id: string;
  readonly lat: number;
  readonly lon: number;
  readonly alt: number | null;
  readonly speed: number | null;
  readonly heading: number | null;
  readonly accuracy: number | null;
}

/** A row of geo_trace / target_position: a position of a target. */
export interface GeoRow extends PositionOut {
  readonly target_id: string;
}

const geoColumns = [
  'target_id',
  'ts',
  'event_id',
  'lat',
  'lon',
  'alt',
  'speed',
  'heading',
  'accuracy',
] as const;
const geoTypes = 'uuid[], timestamptz[], uuid[], float8[], float8[], float8[], float8[], float8[], float8[]';

function geoArrays(rows: readonly GeoRow[]): unknown[][] {
  return geoColumns.map((c) => rows.map((r) => r[c]));
}

function unnestOf(types: string): string {
  return `unnest(${types
    .split(', ')
    .map((t, i) => `$${i + 1}::${t}`)
    .join(', ')})`;
}

export async function insertTraceRows(client: PoolClient, rows: readonly GeoRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await client.query(
    `INSERT INTO tmi.geo_trace (${geoColumns.join(', ')})
     SELECT * FROM ${unnestOf(geoTypes)}
     ON CONFLICT DO NOTHING`,
    geoArrays(rows),
  );
  return res.rowCount ?? 0;
}

/**
 * Last write wins by observation time, ties broken by event id: a late event never moves a target back.
 * Rows must be unique per target (the pure core keeps the newest of the batch).
 */
export async function upsertPositionRows(client: PoolClient, rows: readonly GeoRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await client.query(
    `INSERT INTO tmi.target_position AS p (${geoColumns.join(', ')})
     SELECT * FROM ${unnestOf(geoTypes)}
     ON CONFLICT (target_id) DO UPDATE
       SET ts = excluded.ts, event_id = excluded.event_id, lat = excluded.lat, lon = excluded.lon,
           alt = excluded.alt, speed = excluded.speed, heading = excluded.heading,
           accuracy = excluded.accuracy, updated_at = now()
       WHERE (excluded.ts, excluded.event_id) > (p.ts, p.event_id)`,
    geoArrays(rows),
  );
  return res.rowCount ?? 0;
}

const positionColumns = (p: string) =>
  `${isoOf(`${p}.ts`)} AS ts, ${p}.event_id, ${p}.lat, ${p}.lon, ${p}.alt, ${p}.speed, ${p}.heading, ${p}.accuracy`;

// ── near ────────────────────────────────────────────────────────────────────

export interface NearQuery {
  readonly lat: number;
  readonly lon: number;
  readonly radiusMeters: number;
  readonly kind?: string;
  readonly limit: number;
}

export interface NearRow extends PositionOut {
  readonly target_id: string;
  readonly name: string;
  readonly kind: string;
  readonly distance_m: number;
}

/**
 * Targets whose latest position lies within the radius, nearest first (ties by target id). The
 * `earth_box @> ll_to_earth` test is what the GiST index on target_position answers; some points in the box
 * lie farther than the radius, so earth_distance decides.
 */
export function nearSql(q: NearQuery): { text: string; values: unknown[] } {
  const center = 'll_to_earth($1::float8, $2::float8)';
  const point = 'll_to_earth(p.lat, p.lon)';
  // The index's own expression (migration 015): the same point, through a function autovacuum can read.
  const indexed = 'tmi.ll_to_earth(p.lat, p.lon)';
  const values: unknown[] = [q.lat, q.lon, q.radiusMeters, q.limit];
  const kind = q.kind === undefined ? '' : `AND t.kind = $${values.push(q.kind)}`;
  const text = `SELECT p.target_id, t.name, t.kind, ${positionColumns('p')},
      earth_distance(${center}, ${point}) AS distance_m
    FROM tmi.target_position p JOIN tmi.target t ON t.target_id = p.target_id
    WHERE earth_box(${center}, $3::float8) @> ${indexed}
      AND earth_distance(${center}, ${point}) <= $3::float8
      ${kind}
    ORDER BY distance_m, p.target_id
    LIMIT $4`;
  return { text, values };
}

export async function queryNear(pool: Pool, q: NearQuery): Promise<NearRow[]> {
  const { text, values } = nearSql(q);
  const { rows } = await pool.query<NearRow>(text, values);
  return rows;
}

// ── trace ───────────────────────────────────────────────────────────────────

export interface TraceQuery {
  readonly targetId: string;
  readonly fromIso?: string;
  readonly toIso?: string;
  readonly order: 'asc' | 'desc';
  readonly limit: number;
  readonly after?: { readonly ts: string; readonly eventId: string };
}

/** One page of a target's positions in time order ([from, to)), keyset-paged by (ts, event_id). */
export async function queryTrace(
  pool: Pool,
  q: TraceQuery,
): Promise<{ rows: PositionOut[]; next?: { ts: string; eventId: string } }> {
  const values: unknown[] = [q.targetId];
  const add = (v: unknown) => `$${values.push(v)}`;
  const where = ['g.target_id = $1::uuid'];
  if (q.fromIso !== undefined) where.push(`g.ts >= ${add(q.fromIso)}::timestamptz`);
  if (q.toIso !== undefined) where.push(`g.ts < ${add(q.toIso)}::timestamptz`);
  if (q.after !== undefined) {
    const ts = `${add(q.after.ts)}::timestamptz`;
    const id = `${add(q.after.eventId)}::uuid`;
    where.push(
      q.order === 'asc'
        ? `g.ts >= ${ts} AND (g.ts, g.event_id) > (${ts}, ${id})`
        : `g.ts <= ${ts} AND (g.ts, g.event_id) < (${ts}, ${id})`,
    );
  }
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  const { rows } = await pool.query<PositionOut>(
    `SELECT ${positionColumns('g')} FROM tmi.geo_trace g
     WHERE ${where.join(' AND ')}
     ORDER BY g.ts ${dir}, g.event_id ${dir}
     LIMIT ${add(q.limit + 1)}`,
    values,
  );
  if (rows.length <= q.limit) return { rows };
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1]!;
  return { rows: page, next: { ts: last.ts, eventId: last.event_id } };
}

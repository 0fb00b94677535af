// SPDX-License-Identifier: MIT
// GET /v1/targets/{id}: a target with its latest state and position in one statement. Three statements
// (the target, then its state and position) cost three round trips and two pool connections per read.
import type { Pool } from '../db/index.js';
import type { PositionOut } from './geo.js';
import { isoOf } from './sql.js';
import type { TargetRow } from './targets.js';

/** A field's latest value and its observation time. */
export interface FieldState {
  readonly value: unknown;
  readonly ts: string;
}

export interface TargetRead {
  readonly target: TargetRow;
  /** Field → latest value and its observation time, in field order. */
  readonly state: Record<string, FieldState>;
  readonly position: PositionOut | null;
}

interface TargetReadRow extends TargetRow {
  readonly state: Record<string, FieldState> | null;
  readonly p_ts: string | null;
  readonly p_event_id: string | null;
  readonly p_lat: number | null;
  readonly p_lon: number | null;
  readonly p_alt: number | null;
  readonly p_speed: number | null;
  readonly p_heading: number | null;
  readonly p_accuracy: number | null;
}

// json_object_agg keeps the ORDER BY (jsonb_object_agg would reorder the keys), and JSON.parse makes every
// key an own property (a field named `__proto__` included).
const targetReadSql = `SELECT t.target_id, t.name, t.kind, t.meta,
    ${isoOf('t.created_at')} AS created_at, ${isoOf('t.updated_at')} AS updated_at,
    (SELECT json_object_agg(s.field, json_build_object('value', s.value, 'ts', ${isoOf('s.ts')}) ORDER BY s.field)
       FROM tmi.target_state s WHERE s.target_id = t.target_id) AS state,
    ${isoOf('p.ts')} AS p_ts, p.event_id AS p_event_id, p.lat AS p_lat, p.lon AS p_lon, p.alt AS p_alt,
    p.speed AS p_speed, p.heading AS p_heading, p.accuracy AS p_accuracy
  FROM tmi.target t LEFT JOIN tmi.target_position p ON p.target_id = t.target_id
  WHERE t.target_id = $1`;

export async function getTargetRead(pool: Pool, targetId: string): Promise<TargetRead | undefined> {
  const { rows } = await pool.query<TargetReadRow>(targetReadSql, [targetId]);
  const r = rows[0];
  if (r === undefined) return undefined;
  const { target_id, name, kind, meta, created_at, updated_at } = r;
  return {
    target: { target_id, name, kind, meta, created_at, updated_at },
    state: r.state ?? {},
    position:
      r.p_ts === null
        ? null
        : {
            ts: r.p_ts,
            event_id: r.p_event_id!,
            lat: r.p_lat!,
            lon: r.p_lon!,
            alt: r.p_alt,
            speed: r.p_speed,
            heading: r.p_heading,
            accuracy: r.p_accuracy,
          },
  };
}

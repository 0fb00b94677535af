// SPDX-License-Identifier: MIT
// Every target's latest position (tmi.target_position with the target's name and kind), keyset-paged by
// target_id: what a map of the whole fleet loads once before it follows the live stream.
import type { Pool } from '../db/index.js';
import { isoOf } from './sql.js';

export interface PositionListRow {
  readonly target_id: string;
  readonly name: string;
  readonly kind: string;
  readonly ts: string;
  readonly lat: number;
  readonly lon: number;
}

export async function listPositions(
  pool: Pool,
  q: { kind?: string; after?: string; limit: number },
): Promise<PositionListRow[]> {
  const { rows } = await pool.query<PositionListRow>(
    `SELECT p.target_id, t.name, t.kind, ${isoOf('p.ts')} AS ts, p.lat, p.lon
     FROM tmi.target_position p JOIN tmi.target t ON t.target_id = p.target_id
     WHERE ($1::text IS NULL OR t.kind = $1) AND ($2::uuid IS NULL OR p.target_id > $2)
     ORDER BY p.target_id LIMIT $3`,
    [q.kind ?? null, q.after ?? null, q.limit],
  );
  return rows;
}

// SPDX-License-Identifier: MIT
// The target registry: SQL of create / read / list / change / delete.
import { type Pool, withTransaction } from '../db/index.js';
import { forgetTargetAlarms } from './alarms/index.js';
import { isoOf } from './sql.js';

export interface TargetRow {
  readonly target_id: string;
  readonly name: string;
  readonly kind: string;
  readonly meta: Record<string, unknown>;
  readonly created_at: string;
  readonly updated_at: string;
}

const columns = `target_id, name, kind, meta,
  ${isoOf('created_at')} AS created_at, ${isoOf('updated_at')} AS updated_at`;

export async function insertTarget(
  pool: Pool,
  t: Pick<TargetRow, 'target_id' | 'name' | 'kind' | 'meta'>,
): Promise<TargetRow> {
  const { rows } = await pool.query<TargetRow>(
    `INSERT INTO tmi.target (target_id, name, kind, meta) VALUES ($1, $2, $3, $4) RETURNING ${columns}`,
    [t.target_id, t.name, t.kind, JSON.stringify(t.meta)],
  );
  return rows[0]!;
}

export async function getTarget(pool: Pool, targetId: string): Promise<TargetRow | undefined> {
  const { rows } = await pool.query<TargetRow>(`SELECT ${columns} FROM tmi.target WHERE target_id = $1`, [
    targetId,
  ]);
  return rows[0];
}

/** Kinds of the given targets, in one round trip; unknown ids are absent from the map. */
export async function targetKinds(pool: Pool, targetIds: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ target_id: string; kind: string }>(
    'SELECT target_id, kind FROM tmi.target WHERE target_id = ANY($1::uuid[])',
    [targetIds],
  );
  return new Map(rows.map((r) => [r.target_id, r.kind]));
}

/** Keyset pagination in target_id order: pass the last id of a page as `after`. */
export async function listTargets(
  pool: Pool,
  q: { kind?: string; after?: string; limit: number; name?: string; meta?: Record<string, unknown> },
): Promise<TargetRow[]> {
  // name: a substring, matched literally (LIKE's wildcards escaped); meta: JSON containment.
  const name = q.name === undefined ? null : `%${q.name.replace(/[\\%_]/g, '\\$&')}%`;
  const { rows } = await pool.query<TargetRow>(
    `SELECT ${columns} FROM tmi.target
     WHERE ($1::text IS NULL OR kind = $1) AND ($2::uuid IS NULL OR target_id > $2)
       AND ($4::text IS NULL OR name ILIKE $4) AND ($5::jsonb IS NULL OR meta @> $5::jsonb)
     ORDER BY target_id LIMIT $3`,
    [q.kind ?? null, q.after ?? null, q.limit, name, q.meta === undefined ? null : JSON.stringify(q.meta)],
  );
  return rows;
}

export async function updateTarget(
  pool: Pool,
  targetId: string,
  patch: { name?: string; meta?: Record<string, unknown> },
): Promise<TargetRow | undefined> {
  const { rows } = await pool.query<TargetRow>(
    `UPDATE tmi.target SET name = COALESCE($2, name), meta = COALESCE($3::jsonb, meta), updated_at = now()
     WHERE target_id = $1 RETURNING ${columns}`,
    [targetId, patch.name ?? null, patch.meta === undefined ? null : JSON.stringify(patch.meta)],
  );
  return rows[0];
}

/** Deletes the target and its projections (its events stay in the streams and raw_bucket). */
export async function deleteTarget(pool: Pool, targetId: string): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    // Its open alarms are cleared (reason target_deleted, published); their history stays.
    await forgetTargetAlarms(client, targetId);
    const res = await client.query('DELETE FROM tmi.target WHERE target_id = $1', [targetId]);
    await client.query('DELETE FROM tmi.target_state WHERE target_id = $1', [targetId]);
    await client.query('DELETE FROM tmi.ts_obs WHERE target_id = $1', [targetId]);
    await client.query('DELETE FROM tmi.geo_trace WHERE target_id = $1', [targetId]);
    await client.query('DELETE FROM tmi.target_position WHERE target_id = $1', [targetId]);
    return (res.rowCount ?? 0) > 0;
  });
}

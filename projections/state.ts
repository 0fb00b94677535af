// SPDX-License-Identifier: MIT
import type { Pool } from '../db/index.js';
import { isoOf } from './sql.js';

export interface FieldState {
  readonly value: unknown;
  readonly ts: string;
}

/** Latest value and observation time per field of one target. */
export async function getTargetState(pool: Pool, targetId: string): Promise<Record<string, FieldState>> {
  const { rows } = await pool.query<{ field: string; value: unknown; ts: string }>(
    `SELECT field, value, ${isoOf('ts')} AS ts
     FROM tmi.target_state WHERE target_id = $1 ORDER BY field`,
    [targetId],
  );
  const out: Record<string, FieldState> = {};
  for (const r of rows) out[r.field] = { value: r.value, ts: r.ts };
  return out;
}

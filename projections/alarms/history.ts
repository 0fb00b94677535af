// SPDX-License-Identifier: MIT
// Stored observations read back for a rule's backtest.
import type { Pool } from '../../db/index.js';

export interface HistoryRow {
  readonly target_id: string;
  readonly kind: string;
  /** Observation time, µs since the epoch. */
  readonly ts_us: number;
  readonly event_id: string;
  readonly payload: Record<string, unknown>;
}

export interface HistoryQuery {
  readonly fromIso: string;
  readonly toIso: string;
  readonly targetId: string | null;
  readonly kind: string | null;
  /** Only events holding at least one of these top-level fields. */
  readonly topFields: readonly string[];
  readonly after?: { readonly tsUs: number; readonly eventId: string };
  readonly limit: number;
}

/** One page of stored observations in [from, to), in (observation time, event id) order. */
export async function readHistoryPage(pool: Pool, q: HistoryQuery): Promise<HistoryRow[]> {
  const { rows } = await pool.query<HistoryRow>(
    `SELECT o.target_id, t.kind, (extract(epoch FROM o.ts) * 1000000)::bigint AS ts_us, o.event_id, o.payload
     FROM tmi.ts_obs o JOIN tmi.target t ON t.target_id = o.target_id
     WHERE o.ts >= $1::timestamptz AND o.ts < $2::timestamptz
       AND ($3::uuid IS NULL OR o.target_id = $3) AND ($4::text IS NULL OR t.kind = $4)
       AND o.payload ?| $5::text[]
       AND ($6::bigint IS NULL OR (o.ts, o.event_id) > (to_timestamp(0) + $6::bigint * interval '1 microsecond', $7::uuid))
     ORDER BY o.ts, o.event_id LIMIT $8`,
    [
      q.fromIso,
      q.toIso,
      q.targetId,
      q.kind,
      q.topFields,
      q.after?.tsUs ?? null,
      q.after?.eventId ?? null,
      q.limit,
    ],
  );
  return rows;
}

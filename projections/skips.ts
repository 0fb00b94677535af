// SPDX-License-Identifier: MIT
// tmi.stage_skip: events a stage read and deliberately did not project, with the reason. One row per
// consumer and event (ON CONFLICT DO NOTHING), so redelivery never counts an event twice.
import type { Pool, PoolClient } from '../db/index.js';

export interface SkipRow {
  readonly event_id: string;
  readonly target_id: string;
  /** Observation time, ISO-8601 with microseconds. */
  readonly ts: string;
  readonly reason: string;
  readonly detail: string;
}

export async function insertSkipRows(
  client: PoolClient,
  consumer: string,
  rows: readonly SkipRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await client.query(
    `INSERT INTO tmi.stage_skip (consumer, event_id, target_id, ts, reason, detail)
     SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::timestamptz[], $5::text[], $6::text[])
     ON CONFLICT DO NOTHING`,
    [
      consumer,
      rows.map((r) => r.event_id),
      rows.map((r) => r.target_id),
      rows.map((r) => r.ts),
      rows.map((r) => r.reason),
      rows.map((r) => r.detail),
    ],
  );
  return res.rowCount ?? 0;
}

/** Skipped events per consumer and reason. */
export async function countSkips(pool: Pool): Promise<Map<string, Record<string, number>>> {
  const { rows } = await pool.query<{ consumer: string; reason: string; n: number }>(
    'SELECT consumer, reason, count(*)::int AS n FROM tmi.stage_skip GROUP BY consumer, reason ORDER BY consumer, reason',
  );
  const out = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const byReason = out.get(r.consumer) ?? {};
    byReason[r.reason] = r.n;
    out.set(r.consumer, byReason);
  }
  return out;
}

/** Forgets skips recorded longer ago than the streams keep events. */
export async function pruneSkips(pool: Pool, olderThanMs: number): Promise<number> {
  const res = await pool.query(
    'DELETE FROM tmi.stage_skip WHERE recorded_at < now() - make_interval(secs => $1::double precision / 1000)',
    [olderThanMs],
  );
  return res.rowCount ?? 0;
}

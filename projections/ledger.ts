// SPDX-License-Identifier: MIT
// Claims events for a stage inside the batch's transaction (db/migrations/004_event_ledger.sql): only the
// events this call claims are new; the rest were applied before — a redelivery, or a client's retry that
// came back after JetStream's duplicate window.
import type { Pool, PoolClient } from '../db/index.js';
import { fromMicrosSql } from './write.js';

/**
 * The ids this call claimed, or `'all'` when every event was new (the common case: no id list travels
 * back). The events go as one JSON document, like the projection rows (projections/write.ts).
 */
export async function claimEvents(
  client: PoolClient,
  consumer: string,
  events: readonly { readonly event_id: string; readonly received_us: number }[],
): Promise<Set<string> | 'all'> {
  if (events.length === 0) return 'all';
  const { rows } = await client.query<{ claimed: number; ids: string[] | null }>(
    `WITH claimed AS (
       INSERT INTO tmi.event_ledger (event_id, consumer, received_at)
       SELECT r.event_id, $1, ${fromMicrosSql('r.received_us')}
       FROM json_to_recordset($2::json) AS r(event_id uuid, received_us bigint)
       ON CONFLICT DO NOTHING RETURNING event_id)
     SELECT count(*)::int AS claimed,
            CASE WHEN count(*) < $3 THEN array_agg(event_id::text) END AS ids
     FROM claimed`,
    [consumer, JSON.stringify(events), events.length],
  );
  const row = rows[0]!;
  return row.claimed === events.length ? 'all' : new Set(row.ids ?? []);
}

/** Forgets claims older than the streams keep events: nothing can be redelivered from before then. */
export async function pruneLedger(pool: Pool, olderThanMs: number): Promise<number> {
  const res = await pool.query(
    'DELETE FROM tmi.event_ledger WHERE received_at < now() - make_interval(secs => $1::double precision / 1000)',
    [olderThanMs],
  );
  return res.rowCount ?? 0;
}

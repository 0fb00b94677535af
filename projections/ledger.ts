// SPDX-License-Identifier: MIT
// Claims events for a stage inside the batch's transaction (db/migrations/004_event_ledger.sql): only the
// events this call claims are new; the rest were applied before — a redelivery, or a client's retry that
// came back after JetStream's duplicate window.
import type { Pool, PoolClient } from '../db/index.js';

export async function claimEvents(
  client: PoolClient,
  consumer: string,
  events: readonly { readonly event_id: string; readonly received_at: string }[],
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const { rows } = await client.query<{ event_id: string }>(
    `INSERT INTO tmi.event_ledger (event_id, consumer, received_at)
     SELECT e, $1, r FROM unnest($2::uuid[], $3::timestamptz[]) AS u(e, r)
     ON CONFLICT DO NOTHING RETURNING event_id`,
    [consumer, events.map((e) => e.event_id), events.map((e) => e.received_at)],
  );
  return new Set(rows.map((r) => r.event_id));
}

/** Forgets claims older than the streams keep events: nothing can be redelivered from before then. */
export async function pruneLedger(pool: Pool, olderThanMs: number): Promise<number> {
  const res = await pool.query(
    'DELETE FROM tmi.event_ledger WHERE received_at < now() - make_interval(secs => $1::double precision / 1000)',
    [olderThanMs],
  );
  return res.rowCount ?? 0;
}

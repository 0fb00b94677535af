// SPDX-License-Identifier: MIT
// Batched writes of the projections: one statement per table per batch (arrays unnested server-side),
// ON CONFLICT on the event id so a redelivered batch changes nothing.
import type { PoolClient } from '../db/index.js';
import type { ObsRow, RawRow, StateRow } from './rows.js';

function column<T, K extends keyof T>(rows: readonly T[], key: K): T[K][] {
  return rows.map((r) => r[key]);
}

export async function insertRawRows(client: PoolClient, rows: readonly RawRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await client.query(
    `INSERT INTO tmi.raw_bucket (event_id, target_id, kind, speaker, occurred_at, received_at, schema_id, stream_seq, payload, headers)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
                          $7::int[], $8::bigint[], $9::jsonb[], $10::jsonb[])
     ON CONFLICT DO NOTHING`,
    [
      column(rows, 'event_id'),
      column(rows, 'target_id'),
      column(rows, 'kind'),
      column(rows, 'speaker'),
      column(rows, 'occurred_at'),
      column(rows, 'received_at'),
      column(rows, 'schema_id'),
      column(rows, 'stream_seq'),
      column(rows, 'payload'),
      column(rows, 'headers'),
    ],
  );
  return res.rowCount ?? 0;
}

export async function insertObsRows(client: PoolClient, rows: readonly ObsRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await client.query(
    `INSERT INTO tmi.ts_obs (target_id, ts, event_id, schema_id, payload, received_at)
     SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::int[], $5::jsonb[], $6::timestamptz[])
     ON CONFLICT DO NOTHING`,
    [
      column(rows, 'target_id'),
      column(rows, 'ts'),
      column(rows, 'event_id'),
      column(rows, 'schema_id'),
      column(rows, 'payload'),
      column(rows, 'received_at'),
    ],
  );
  return res.rowCount ?? 0;
}

/**
 * Last write wins by observation time (ties broken by event id, so every replay ends in the same state):
 * a late event never overwrites a newer value. Rows must be unique per (target_id, field) — the pure
 * core reduces a batch to its newest value per field first.
 */
export async function upsertStateRows(client: PoolClient, rows: readonly StateRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await client.query(
    `INSERT INTO tmi.target_state AS s (target_id, field, value, ts, event_id)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::timestamptz[], $5::uuid[])
     ON CONFLICT (target_id, field) DO UPDATE
       SET value = excluded.value, ts = excluded.ts, event_id = excluded.event_id, updated_at = now()
       WHERE (excluded.ts, excluded.event_id) > (s.ts, s.event_id)`,
    [
      column(rows, 'target_id'),
      column(rows, 'field'),
      column(rows, 'value'),
      column(rows, 'ts'),
      column(rows, 'event_id'),
    ],
  );
  return res.rowCount ?? 0;
}

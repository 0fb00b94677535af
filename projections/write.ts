// SPDX-License-Identifier: MIT
// Batched writes of the projections: one statement per table per batch, ON CONFLICT on the event id so a
// redelivered batch changes nothing. The rows travel as ONE JSON document (json_to_recordset): Node
// serializes a batch in one native JSON.stringify — payloads included, no per-row string building and no
// array-literal escaping, which cost ~5× more Node CPU per row than the statement costs PostgreSQL
// (`npm run bench`, scenario 2) — and times travel as integer microseconds.
import type { PoolClient } from '../db/index.js';
import type { ObsRow, RawRow, StateRow } from './rows.js';

/** SQL of a timestamptz from integer microseconds since the epoch (exact: no float seconds). */
export function fromMicrosSql(expr: string): string {
  return `(timestamptz 'epoch' + ${expr} * interval '1 microsecond')`;
}

export async function insertRawRows(client: PoolClient, rows: readonly RawRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await client.query(
    `INSERT INTO tmi.raw_bucket (event_id, target_id, kind, speaker, occurred_at, received_at, schema_id, stream_seq, payload, headers)
     SELECT r.event_id, r.target_id, r.kind, r.speaker, ${fromMicrosSql('r.occurred_us')}, ${fromMicrosSql('r.received_us')},
            r.schema_id, r.stream_seq, r.payload, r.headers
     FROM json_to_recordset($1::json) AS r(event_id uuid, target_id uuid, kind text, speaker text, occurred_us bigint,
                                          received_us bigint, schema_id int, stream_seq bigint, payload jsonb, headers jsonb)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return res.rowCount ?? 0;
}

export async function insertObsRows(client: PoolClient, rows: readonly ObsRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await client.query(
    `INSERT INTO tmi.ts_obs (target_id, ts, event_id, schema_id, payload, received_at)
     SELECT r.target_id, ${fromMicrosSql('r.ts_us')}, r.event_id, r.schema_id, r.payload, ${fromMicrosSql('r.received_us')}
     FROM json_to_recordset($1::json)
          AS r(target_id uuid, ts_us bigint, event_id uuid, schema_id int, payload jsonb, received_us bigint)
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(rows)],
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
     SELECT r.target_id, r.field, r.value, ${fromMicrosSql('r.ts_us')}, r.event_id
     FROM json_to_recordset($1::json) AS r(target_id uuid, field text, value jsonb, ts_us bigint, event_id uuid)
     ON CONFLICT (target_id, field) DO UPDATE
       SET value = excluded.value, ts = excluded.ts, event_id = excluded.event_id, updated_at = now()
       WHERE (excluded.ts, excluded.event_id) > (s.ts, s.event_id)`,
    [JSON.stringify(rows)],
  );
  return res.rowCount ?? 0;
}

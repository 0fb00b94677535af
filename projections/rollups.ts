// SPDX-License-Identifier: MIT
// Rollups of ts_obs (migration 012, ADR 0027): the project stage merges each batch's cells (computed by
// processors/rollup-core.ts) into tmi.obs_rollup_1m / _1h in the transaction that inserted the ts_obs rows,
// and only for the rows that transaction inserted — so a redelivered or replayed event, whose row was
// there already, adds nothing, and the rollups always equal an aggregate of ts_obs.
import type { Pool, PoolClient } from '../db/index.js';
import type { ObsRow } from './rows.js';
import { fromMicrosSql } from './write.js';

/** Rollup widths in seconds: a minute (ranges up to days) and an hour (weeks and more). */
export const rollupWidths = [60, 3600] as const;
export type RollupWidth = (typeof rollupWidths)[number];

export function rollupTable(width: RollupWidth): string {
  return width === 60 ? 'tmi.obs_rollup_1m' : 'tmi.obs_rollup_1h';
}

/** What a batch adds to one rollup row. Times are µs since the epoch. */
export interface RollupCell {
  readonly target_id: string;
  readonly field: string;
  readonly bucket_us: number;
  readonly count: number;
  readonly num_count: number;
  /** Exact decimal text of the sum of the numeric values; null without any. */
  readonly sum: string | null;
  readonly min: number | null;
  readonly min_us: number | null;
  readonly max: number | null;
  readonly max_us: number | null;
  readonly first_us: number;
  readonly first_event: string;
  readonly first_value: unknown;
  readonly last_us: number;
  readonly last_event: string;
  readonly last_value: unknown;
}

/**
 * The rows of `obs` that this transaction inserted into ts_obs, given how many the insert reported: all of
 * them (the common case, no query), else those whose row version is this transaction's (xmin), each once.
 */
export async function insertedObsRows(
  client: PoolClient,
  obs: readonly ObsRow[],
  inserted: number,
): Promise<readonly ObsRow[]> {
  if (inserted === obs.length || obs.length === 0) return obs;
  if (inserted === 0) return [];
  const { rows } = await client.query<{ key: string }>(
    `SELECT o.target_id::text || '/' || r.ts_us || '/' || o.event_id::text AS key
     FROM json_to_recordset($1::json) AS r(target_id uuid, ts_us bigint, event_id uuid)
     JOIN tmi.ts_obs o ON o.target_id = r.target_id AND o.ts = ${fromMicrosSql('r.ts_us')} AND o.event_id = r.event_id
     WHERE o.xmin = pg_current_xact_id()::xid`,
    [JSON.stringify(obs.map((o) => ({ target_id: o.target_id, ts_us: o.ts_us, event_id: o.event_id })))],
  );
  const ours = new Set(rows.map((r) => r.key));
  // delete: a row twice in the batch was inserted once.
  return obs.filter((o) =>
    ours.delete(`${o.target_id.toLowerCase()}/${o.ts_us}/${o.event_id.toLowerCase()}`),
  );
}

/** The better of the stored and the new value, as SQL: `excluded` wins when `better` holds. */
const pick = (column: string, better: string) =>
  `${column} = CASE WHEN ${better} THEN excluded.${column} ELSE s.${column} END`;

const betterMin = `excluded.min IS NOT NULL AND (s.min IS NULL OR (excluded.min, excluded.min_us) < (s.min, s.min_us))`;
const betterMax = `excluded.max IS NOT NULL AND (s.max IS NULL OR excluded.max > s.max OR (excluded.max = s.max AND excluded.max_us < s.max_us))`;
const betterFirst = '(excluded.first_ts, excluded.first_event) < (s.first_ts, s.first_event)';
const betterLast = '(excluded.last_ts, excluded.last_event) > (s.last_ts, s.last_event)';

function mergeCellsSql(width: RollupWidth, param: string): string {
  const ts = (col: string) => fromMicrosSql(`r.${col}`);
  return `INSERT INTO ${rollupTable(width)} AS s (target_id, field, bucket, count, num_count, sum, min, min_us, max, max_us,
      first_ts, first_event, first_value, last_ts, last_event, last_value)
    SELECT r.target_id, r.field, ${ts('bucket_us')}, r.count, r.num_count, r.sum, r.min, r.min_us, r.max, r.max_us,
           ${ts('first_us')}, r.first_event, coalesce(r.first_value, 'null'), ${ts('last_us')}, r.last_event, coalesce(r.last_value, 'null')
    FROM json_to_recordset(${param}::json) AS r(target_id uuid, field text, bucket_us bigint, count bigint, num_count bigint,
      sum numeric, min float8, min_us bigint, max float8, max_us bigint, first_us bigint, first_event uuid, first_value jsonb,
      last_us bigint, last_event uuid, last_value jsonb)
    ON CONFLICT (target_id, field, bucket) DO UPDATE SET
      count = s.count + excluded.count,
      num_count = s.num_count + excluded.num_count,
      sum = CASE WHEN s.sum IS NULL THEN excluded.sum WHEN excluded.sum IS NULL THEN s.sum ELSE s.sum + excluded.sum END,
      ${pick('min', betterMin)}, ${pick('min_us', betterMin)},
      ${pick('max', betterMax)}, ${pick('max_us', betterMax)},
      ${pick('first_ts', betterFirst)}, ${pick('first_event', betterFirst)}, ${pick('first_value', betterFirst)},
      ${pick('last_ts', betterLast)}, ${pick('last_event', betterLast)}, ${pick('last_value', betterLast)}
    RETURNING 1`;
}

/** Both tables in one statement: one round trip per batch (single-event batches pay it per event). */
const mergeSql = `WITH minutes AS (${mergeCellsSql(60, '$1')}), hours AS (${mergeCellsSql(3600, '$2')})
  SELECT (SELECT count(*) FROM minutes)::int + (SELECT count(*) FROM hours)::int AS written`;

/** Merges the cells into the rollup tables. Returns the rows written. */
export async function mergeRollupCells(
  client: PoolClient,
  cells: ReadonlyMap<RollupWidth, readonly RollupCell[]>,
): Promise<number> {
  const minutes = cells.get(60) ?? [];
  const hours = cells.get(3600) ?? [];
  if (minutes.length === 0 && hours.length === 0) return 0;
  const { rows } = await client.query<{ written: number }>(mergeSql, [
    JSON.stringify(minutes),
    JSON.stringify(hours),
  ]);
  return rows[0]!.written;
}

/**
 * Recomputes the rollups of [from, to) (widened to whole hours) from ts_obs, for one target or all: for
 * rows written into ts_obs other than by the pipeline (the bench's load, a hand edit). Returns rows made.
 */
export async function rebuildRollups(
  pool: Pool,
  targetId: string | null,
  fromIso: string,
  toIso: string,
): Promise<number> {
  const { rows } = await pool.query<{ made: string }>(
    'SELECT tmi.obs_rollups_rebuild($1::uuid, $2::timestamptz, $3::timestamptz) AS made',
    [targetId, fromIso, toIso],
  );
  return Number(rows[0]!.made);
}

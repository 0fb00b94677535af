// SPDX-License-Identifier: MIT
// The rollups' invariant, checked in SQL: tmi.obs_rollup_1m / _1h hold exactly the cells tmi.obs_cells
// computes from ts_obs (migration 012) — no cell missing, none extra, none counted twice.
const columns =
  'target_id, field, bucket, count, num_count, sum, min, min_us, max, max_us, first_ts, first_event, first_value, last_ts, last_event, last_value';

export interface RollupMismatch {
  readonly table: string;
  /** Cells ts_obs has that the rollup lacks or holds differently. */
  readonly missing: number;
  /** Rollup rows no aggregate of ts_obs gives (double counts land here). */
  readonly extra: number;
  /** Rollup rows in all. */
  readonly rows: number;
}

type Sql = <T>(text: string, values?: unknown[]) => Promise<T[]>;

export async function rollupMismatches(sql: Sql): Promise<RollupMismatch[]> {
  const out: RollupMismatch[] = [];
  for (const [table, width] of [
    ['tmi.obs_rollup_1m', 60],
    ['tmi.obs_rollup_1h', 3600],
  ] as const) {
    const [row] = await sql<{ missing: number; extra: number; rows: number }>(
      `WITH want AS (
         SELECT t.target_id, c.field, c.bucket, c.count, c.num_count, c.sum, c.min, c.min_us, c.max, c.max_us,
                c.first_ts, c.first_event, c.first_value, c.last_ts, c.last_event, c.last_value
         FROM (SELECT DISTINCT target_id FROM tmi.ts_obs) t,
              tmi.obs_cells(t.target_id, NULL, '-infinity', 'infinity', $1::int * interval '1 second') c
       ), have AS (SELECT ${columns} FROM ${table})
       SELECT (SELECT count(*) FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM have) m)::int AS missing,
              (SELECT count(*) FROM (SELECT * FROM have EXCEPT ALL SELECT * FROM want) e)::int AS extra,
              (SELECT count(*) FROM have)::int AS rows`,
      [width],
    );
    out.push({ table, ...row! });
  }
  return out;
}

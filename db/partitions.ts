// SPDX-License-Identifier: MIT
import type { Pool } from './pool.js';

/** How time partitioning is done on this server: 'timescaledb', 'pg_partman', or 'none'. */
export async function partitioningMode(pool: Pool): Promise<'timescaledb' | 'pg_partman' | 'none'> {
  const { rows } = await pool.query<{ extname: string }>(
    "SELECT extname FROM pg_extension WHERE extname IN ('timescaledb', 'pg_partman')",
  );
  const names = rows.map((r) => r.extname);
  if (names.includes('timescaledb')) return 'timescaledb';
  if (names.includes('pg_partman')) return 'pg_partman';
  return 'none';
}

/** Creates the coming days' partitions (pg_partman); a no-op elsewhere. Run at start and hourly. */
export async function runPartitionMaintenance(pool: Pool): Promise<void> {
  if ((await partitioningMode(pool)) !== 'pg_partman') return;
  await pool.query('SELECT partman.run_maintenance(p_analyze := false)');
}

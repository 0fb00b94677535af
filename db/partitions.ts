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

/** Daily partitions are made this many days ahead. */
export const partitionPremakeDays = 7;

/**
 * Creates the coming days' partitions, in the tmi_partitions schema (migration 009: pg_partman 4 only
 * finds partitions beside their parent, so tmiDB makes them itself); a no-op without pg_partman's
 * native partitioning. Run at start and hourly.
 */
export async function runPartitionMaintenance(pool: Pool): Promise<void> {
  if ((await partitioningMode(pool)) !== 'pg_partman') return;
  await pool.query('SELECT tmi.premake_partitions($1)', [partitionPremakeDays]);
}

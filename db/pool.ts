// SPDX-License-Identifier: MIT
import pg from 'pg';
import { TmiError } from '../errors/index.js';
import { classifyDatabaseError, markConnectionLost } from './errors.js';

/** application_name of every connection tmiDB's own processes open (seen in pg_stat_activity). */
export const applicationName = 'tmiDB-Core';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// bigint (int8) and numeric come back as strings by default; counts and sequences fit a double.
pg.types.setTypeParser(20, (v) => Number(v));

export function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: applicationName,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Nor a checked-out one (in a transaction, awaiting a publish between statements): node-pg emits 'error'
  // on the client, which without a listener crashes the process (found by faults-postgres-immediate-stop).
  // The failure still reaches the transaction through its next query; the pool drops the dead client.
  // The error is marked as a lost connection: the queries it fails are answered 503 "retry", not 500
  // (faults-postgres-immediate-stop: a read on a pooled connection killed under it).
  pool.on('connect', (client) => {
    client.on('error', markConnectionLost);
  });
  return pool;
}

/** Runs fn inside one transaction on one client; rolls back on any error, which comes out classified by SQLSTATE. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect().catch((err) => {
    throw classifyDatabaseError(err);
  });
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err instanceof TmiError ? err : classifyDatabaseError(err);
  } finally {
    client.release();
  }
}

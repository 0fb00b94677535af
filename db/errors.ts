// SPDX-License-Identifier: MIT
// PostgreSQL errors classified by SQLSTATE, never by message text.
import { TaggedError } from '../errors/index.js';

/** A PostgreSQL failure; `sqlState` is PostgreSQL's code (or a socket code / UNKNOWN without one). */
export class DatabaseError extends TaggedError('DatabaseError')<'DATABASE_UNAVAILABLE' | 'DATABASE_FAILED'> {
  constructor(
    readonly sqlState: string,
    message: string,
    isRetryable: boolean,
    cause?: unknown,
  ) {
    super(isRetryable ? 'DATABASE_UNAVAILABLE' : 'DATABASE_FAILED', message, { cause });
  }
}

/** SQLSTATE classes and codes worth retrying: connection loss, shutdown, serialization, deadlock, lock timeout. */
export function isRetryableSqlState(sqlState: string | undefined): boolean {
  if (!sqlState) return true; // no SQLSTATE: a socket-level failure (ECONNRESET, ECONNREFUSED …)
  const cls = sqlState.slice(0, 2);
  return (
    cls === '08' || // connection exception
    cls === '57' || // operator intervention (admin shutdown, cannot connect now)
    cls === '53' || // insufficient resources
    sqlState === '40001' || // serialization failure
    sqlState === '40P01' || // deadlock
    sqlState === '55P03' // lock not available
  );
}

/** A unique constraint refused the row (SQLSTATE 23505), raw from pg or classified. */
export function isUniqueViolation(err: unknown): boolean {
  const sqlState = err instanceof DatabaseError ? err.sqlState : (err as { code?: unknown } | null)?.code;
  return sqlState === '23505';
}

export function classifyDatabaseError(err: unknown): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const e = err as { code?: string; message?: string };
  const sqlState = typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  return new DatabaseError(
    sqlState ?? e?.code ?? 'UNKNOWN',
    e?.message ?? String(err),
    isRetryableSqlState(sqlState),
    err,
  );
}

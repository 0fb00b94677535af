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

const connectionLostMark = Symbol('tmidb.connectionLost');

/**
 * Marks an error node-pg raised because a connection ended under it ("Connection terminated
 * unexpectedly": a plain Error without SQLSTATE or socket code). The pool marks it from the client's
 * 'error' event, which node-pg emits before it rejects the queries in flight with the same object.
 */
export function markConnectionLost(err: unknown): void {
  if (typeof err === 'object' && err !== null && !Object.hasOwn(err, connectionLostMark)) {
    Object.defineProperty(err, connectionLostMark, { value: true });
  }
}

/** Whether `err` is a lost PostgreSQL connection marked by the pool: unavailability, so "retry". */
export function isConnectionLost(err: unknown): boolean {
  return typeof err === 'object' && err !== null && Object.hasOwn(err, connectionLostMark);
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

/**
 * Whose fault a SQLSTATE is, by class: the caller's (22 data exception → `input`, 23505 unique violation →
 * `conflict`, the rest of 23 integrity → `constraint`), unavailability (08 connection, 53 resources, 57P
 * operator intervention, and the transient 40001/40P01/55P03 → `unavailable`), or ours (`internal`).
 */
export type SqlStateFault = 'input' | 'conflict' | 'constraint' | 'unavailable' | 'internal';

export function sqlStateFault(sqlState: string): SqlStateFault {
  const cls = sqlState.slice(0, 2);
  if (cls === '22') return 'input';
  if (sqlState === '23505') return 'conflict';
  if (cls === '23') return 'constraint';
  if (cls === '57' && !sqlState.startsWith('57P')) return 'internal'; // 57014 query_canceled: a timeout of ours
  if (isRetryableSqlState(sqlState)) return 'unavailable';
  return 'internal';
}

/** The SQLSTATE of a PostgreSQL error (node-pg's `code` with a `severity`, or a DatabaseError), else undefined. */
export function sqlStateOf(err: unknown): string | undefined {
  const raw =
    err instanceof DatabaseError
      ? err.sqlState
      : (err as { severity?: unknown } | null)?.severity !== undefined
        ? (err as { code?: unknown }).code
        : undefined;
  return typeof raw === 'string' && /^[0-9A-Z]{5}$/.test(raw) ? raw : undefined;
}

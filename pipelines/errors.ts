// SPDX-License-Identifier: MIT
// One classification of everything a stage can throw: by error class (the TmiError base and its catalogue
// code), SQLSTATE or JetStream error code — never by message text. isRetryable drives the runner: retry
// the batch, or bisect it and dead-letter. A broken invariant is neither: it is rethrown and the stage crashes.
import { JetStreamApiError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import { classifyDatabaseError, DatabaseError, isConnectionLost } from '../db/index.js';
import { InvariantError, invariant, isInvariantBreach, TmiError } from '../errors/index.js';

export { InvariantError, invariant };

export interface ClassifiedError {
  /** A catalogue code, or `PG_<SQLSTATE>`, `JS_<err_code>`, `NATS_<class>`, a Node socket code. */
  readonly code: string;
  readonly message: string;
  readonly isRetryable: boolean;
  readonly cause: unknown;
}

const retryableNats = [
  natsErrors.TimeoutError,
  natsErrors.ConnectionError,
  natsErrors.ClosedConnectionError,
  natsErrors.DrainingConnectionError,
  natsErrors.NoRespondersError,
  natsErrors.RequestError,
];

const classified = (code: string, err: unknown, isRetryable: boolean, message?: string): ClassifiedError => ({
  code,
  message: message ?? (err instanceof Error ? err.message : String(err)),
  isRetryable,
  cause: err,
});

export function classifyError(err: unknown): ClassifiedError {
  if (isInvariantBreach(err)) throw err;
  if (err instanceof DatabaseError) return classified(`PG_${err.sqlState}`, err, err.isRetryable);
  if (err instanceof TmiError) return classified(err.code, err, err.isRetryable);
  if (err instanceof JetStreamApiError) {
    // 503 (no quorum / JetStream temporarily unavailable) and 408 are transient; 4xx API errors are not.
    const transient = err.status === 503 || err.status === 408 || err.status >= 500;
    return classified(`JS_${err.code}`, err, transient);
  }
  if (retryableNats.some((cls) => err instanceof cls))
    return classified(`NATS_${(err as Error).name}`, err, true);
  const pgLike = err as { code?: unknown; severity?: unknown; errno?: unknown };
  if (typeof pgLike?.code === 'string' && (pgLike.severity !== undefined || pgLike.errno !== undefined)) {
    const db = classifyDatabaseError(err);
    return classified(`PG_${db.sqlState}`, err, db.isRetryable, db.message);
  }
  if (isConnectionLost(err)) return classified('PG_CONNECTION_LOST', err, true);
  if (typeof pgLike?.code === 'string' && /^E[A-Z]+$/.test(pgLike.code)) {
    // Node socket errors (ECONNREFUSED, ECONNRESET, EPIPE …): the database or NATS went away for a moment.
    return classified(pgLike.code, err, true);
  }
  return classified('UNEXPECTED', err, false);
}

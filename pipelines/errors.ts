// SPDX-License-Identifier: MIT
// One classification of everything a stage can throw: by SQLSTATE, JetStream error code or error class —
// never by message text. isRetryable drives the runner: retry the batch, or bisect it and dead-letter.
import { JetStreamApiError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import { classifyDatabaseError } from '../db/index.js';

export interface ClassifiedError {
  readonly code: string;
  readonly message: string;
  readonly isRetryable: boolean;
  readonly cause: unknown;
}

/** Raised when a broken invariant means the process must not go on (it crashes; the stream redelivers). */
export class InvariantError extends Error {
  readonly _tag = 'InvariantError';
  readonly code = 'INVARIANT_BROKEN';
  readonly isRetryable = false;
}

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

const retryableNats = [
  natsErrors.TimeoutError,
  natsErrors.ConnectionError,
  natsErrors.ClosedConnectionError,
  natsErrors.DrainingConnectionError,
  natsErrors.NoRespondersError,
  natsErrors.RequestError,
];

export function classifyError(err: unknown): ClassifiedError {
  if (err instanceof InvariantError) throw err;
  if (err instanceof JetStreamApiError) {
    // 503 (no quorum / JetStream temporarily unavailable) and 408 are transient; 4xx API errors are not.
    const transient = err.status === 503 || err.status === 408 || err.status >= 500;
    return { code: `JS_${err.code}`, message: err.message, isRetryable: transient, cause: err };
  }
  if (retryableNats.some((cls) => err instanceof cls)) {
    return {
      code: `NATS_${(err as Error).name}`,
      message: (err as Error).message,
      isRetryable: true,
      cause: err,
    };
  }
  const tagged = err as { code?: unknown; isRetryable?: unknown; message?: string };
  if (typeof tagged?.isRetryable === 'boolean' && typeof tagged.code === 'string') {
    return {
      code: tagged.code,
      message: tagged.message ?? String(err),
      isRetryable: tagged.isRetryable,
      cause: err,
    };
  }
  const pgLike = err as { code?: unknown; severity?: unknown; errno?: unknown };
  if (typeof pgLike?.code === 'string' && (pgLike.severity !== undefined || pgLike.errno !== undefined)) {
    const db = classifyDatabaseError(err);
    return { code: `PG_${db.code}`, message: db.message, isRetryable: db.isRetryable, cause: err };
  }
  if (typeof pgLike?.code === 'string' && /^E[A-Z]+$/.test(pgLike.code)) {
    // Node socket errors (ECONNREFUSED, ECONNRESET, EPIPE …): the database or NATS went away for a moment.
    return { code: pgLike.code, message: (err as Error).message, isRetryable: true, cause: err };
  }
  return {
    code: 'UNEXPECTED',
    message: err instanceof Error ? err.message : String(err),
    isRetryable: false,
    cause: err,
  };
}

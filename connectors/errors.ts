// SPDX-License-Identifier: MIT
import { sqlStateFault, sqlStateOf } from '../db/index.js';
import { classifyError } from '../pipelines/index.js';

/** A speaker write refused as a whole: nothing of it was published. Maps to problem+json / a NATS error reply. */
export class WriteRejectedError extends Error {
  readonly _tag = 'WriteRejectedError';
  readonly isRetryable = false;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How an error no one anticipated answers a speaker or an API caller: status, code and what to say. */
export interface ErrorAnswer {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
}

export const retryHint =
  'nothing was acknowledged — retry (with the same event_id or Idempotency-Key for writes)';

/**
 * By class — SQLSTATE for PostgreSQL, JetStream code or error class otherwise — never by text: the
 * caller's fault (22 data exception, 23 integrity) is a 4xx that says what is wrong; only unavailability
 * (08, 53, 57P, a lost NATS/JetStream) is a 503 "retry"; anything else is our fault, a 500.
 */
export function answerOfUnexpected(err: unknown, requestId: string): ErrorAnswer {
  const e = err as { status?: unknown; code?: unknown; message?: unknown } | null;
  if (e?.status === 503 && typeof e.code === 'string' && typeof e.message === 'string') {
    return { status: 503, code: e.code, detail: e.message }; // an unavailability that says why
  }
  const sqlState = sqlStateOf(err);
  const text = (err as Error)?.message ?? String(err);
  const fault =
    sqlState !== undefined ? sqlStateFault(sqlState) : isRetryable(err) ? 'unavailable' : 'internal';
  switch (fault) {
    case 'input':
      return { status: 400, code: 'INVALID_VALUE', detail: `a value of the request cannot be used: ${text}` };
    case 'conflict':
      return { status: 409, code: 'CONFLICT', detail: `the request conflicts with what is stored: ${text}` };
    case 'constraint':
      return {
        status: 422,
        code: 'CONSTRAINT_VIOLATION',
        detail: `the request breaks a rule of the data: ${text}`,
      };
    case 'unavailable':
      return {
        status: 503,
        code: 'UNAVAILABLE',
        detail: `tmiDB could not complete the request right now; ${retryHint} (request ${requestId})`,
      };
    case 'internal':
      return {
        status: 500,
        code: 'INTERNAL_ERROR',
        detail: `internal error; nothing was acknowledged. Report request ${requestId} to the operator`,
      };
  }
}

function isRetryable(err: unknown): boolean {
  try {
    return classifyError(err).isRetryable;
  } catch {
    return false; // a broken invariant is never "retry"
  }
}

/**
 * JetStream's err_codes for a full store: 10023 "insufficient resources" (what a publish gets when the
 * server's max_file_store is reached) and 10047 "insufficient storage resources available".
 */
export const jetStreamStorageFullCodes: readonly number[] = [10023, 10047];

/** JetStream has no storage left: nothing was stored, and a retry succeeds once space returns. */
export class StorageFullError extends Error {
  readonly _tag = 'StorageFullError';
  readonly status = 503;
  readonly code = 'STORAGE_FULL';
  readonly isRetryable = true;
  constructor(cause: unknown) {
    super(`JetStream has no storage left (its max_file_store is reached); ${retryHint} once space is freed`, {
      cause,
    });
  }
}

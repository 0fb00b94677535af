// SPDX-License-Identifier: MIT
// How an error no route or connector anticipated answers a caller — the same for the HTTP API and the NATS
// speaker — decided by its class, never its text: the caller's fault (SQLSTATE class 22 data exception,
// 23 integrity) is a 4xx that says what is wrong; only unavailability (08, 53, 57P, a lost NATS or
// JetStream, a full store) is a 503 "retry"; anything else is our fault, a 500.
import { sqlStateFault, sqlStateOf } from '../db/index.js';
import { isTmiError, type ProblemCode, specOf } from '../errors/index.js';
import { classifyError } from '../pipelines/index.js';

export interface ErrorAnswer {
  readonly status: number;
  readonly code: ProblemCode;
  readonly detail: string;
}

export const retryHint =
  'nothing was acknowledged — retry (with the same event_id or Idempotency-Key for writes)';

/**
 * JetStream's err_codes for a full store: 10023 "insufficient resources" (what a publish gets when the
 * server's max_file_store is reached) and 10047 "insufficient storage resources available".
 */
export const jetStreamStorageFullCodes: readonly number[] = [10023, 10047];

export function answerOfUnexpected(err: unknown, requestId: string): ErrorAnswer {
  // A catalogue error with an HTTP status of its own (503 STORAGE_FULL …) says why itself.
  if (isTmiError(err) && (specOf(err.code).http ?? 0) >= 500) {
    return { status: err.status, code: err.code as ProblemCode, detail: err.message };
  }
  const sqlState = sqlStateOf(err);
  const text = (err as Error)?.message ?? String(err);
  const fault =
    sqlState !== undefined ? sqlStateFault(sqlState) : isRetryable(err) ? 'unavailable' : 'internal';
  switch (fault) {
    case 'input':
      return answer('VALUE_NOT_STORABLE', `a value of the request cannot be used: ${text}`);
    case 'conflict':
      return answer('CONFLICT', `the request conflicts with what is stored: ${text}`);
    case 'constraint':
      return answer('CONSTRAINT_VIOLATION', `the request breaks a rule of the data: ${text}`);
    case 'unavailable':
      return answer(
        'UNAVAILABLE',
        `tmiDB could not complete the request right now; ${retryHint} (request ${requestId})`,
      );
    case 'internal':
      return answer(
        'INTERNAL_ERROR',
        `internal error; nothing was acknowledged. Report request ${requestId} to the operator`,
      );
  }
}

function answer(code: ProblemCode, detail: string): ErrorAnswer {
  return { status: specOf(code).http!, code, detail };
}

function isRetryable(err: unknown): boolean {
  try {
    return classifyError(err).isRetryable;
  } catch {
    return false; // a broken invariant is never "retry"
  }
}

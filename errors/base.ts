// SPDX-License-Identifier: MIT
// The one error base. Every error class of tmiDB derives from TmiError through TaggedError('Name'): it
// carries a `_tag` (its class), a `code` from the catalogue and `isRetryable`. Classify with instanceof
// or `_tag`, never by message text.
import { Data } from 'effect';
import { type ErrorCode, httpStatusOf, type ProblemCode, specOf } from './catalogue.js';

export interface TmiErrorOptions {
  readonly cause?: unknown;
  /** Overrides the catalogue's answer for this one error (a DatabaseError knows by its SQLSTATE). */
  readonly isRetryable?: boolean;
}

/**
 * The base: Effect's `Data.Error` (what `Data.TaggedError` extends), so every error is also a yieldable
 * Effect failure. Subclass it through `TaggedError(tag)`, which gives each class its literal `_tag`.
 */
export abstract class TmiError<C extends ErrorCode = ErrorCode> extends Data.Error<{
  readonly message: string;
  readonly cause?: unknown;
}> {
  abstract readonly _tag: string;
  readonly code: C;
  readonly isRetryable: boolean;

  constructor(code: C, message: string, options: TmiErrorOptions = {}) {
    super(options.cause === undefined ? { message } : { message, cause: options.cause });
    this.code = code;
    this.isRetryable = options.isRetryable ?? specOf(code).retryable;
  }

  /** HTTP status of the code (500 for codes never answered over HTTP). */
  get status(): number {
    return httpStatusOf(this.code);
  }
}

/** `class X extends TaggedError('X') {}`: a TmiError whose `_tag` and `name` are the class's tag. */
export function TaggedError<const Tag extends string>(tag: Tag) {
  abstract class Tagged<C extends ErrorCode = ErrorCode> extends TmiError<C> {
    readonly _tag: Tag = tag;
  }
  Tagged.prototype.name = tag;
  return Tagged;
}

/**
 * A request refused with a catalogue code: the route or connector throws it, the HTTP layer answers
 * problem+json with the code's status, the NATS connector an error reply. Only codes with an HTTP status
 * compile: `throw new RequestRejectedError('TARGET_NOT_FOUND', `no target ${id}`)`.
 */
export class RequestRejectedError extends TaggedError('RequestRejectedError')<ProblemCode> {
  constructor(code: ProblemCode, detail: string, options?: TmiErrorOptions) {
    super(code, detail, options);
  }
}

/** A broken invariant: the process must not go on. Stages never retry nor dead-letter it; they crash. */
export class InvariantError extends TaggedError('InvariantError')<'INVARIANT_BROKEN'> {
  constructor(message: string) {
    super('INVARIANT_BROKEN', message);
  }
}

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/** An error whose code says the process must crash (InvariantError, CheckpointRegressionError …). */
export function isInvariantBreach(err: unknown): err is TmiError {
  return err instanceof TmiError && specOf(err.code).crashes === true;
}

export function isTmiError(err: unknown): err is TmiError {
  return err instanceof TmiError;
}

/** A TmiError a client is told about as is (its code has a 4xx HTTP status). */
export function isClientError(err: unknown): err is TmiError<ProblemCode> {
  if (!(err instanceof TmiError)) return false;
  const http = specOf(err.code).http;
  return http !== undefined && http >= 400 && http < 500;
}

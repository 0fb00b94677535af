// SPDX-License-Identifier: MIT
// Errors of managed connectors. Each has a code, an HTTP status (for the API) and isRetryable; the host
// decides between backing off (retryable) and failing (not) from isRetryable alone, never from text.

/** A connector definition refused: `member` names the bad member (`config.interval_s`). */
export class ConnectorConfigError extends Error {
  readonly _tag = 'ConnectorConfigError';
  readonly status = 400;
  readonly code = 'INVALID_CONNECTOR';
  readonly isRetryable = false;
  constructor(
    readonly member: string,
    problem: string,
  ) {
    super(`${member} ${problem}`);
  }
}

/** A source could not be read (HTTP status, network, parse, external database …). */
export class SourceError extends Error {
  readonly _tag = 'SourceError';
  constructor(
    readonly code: string,
    message: string,
    readonly isRetryable: boolean,
    /** The source asked to wait this long (HTTP Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Another process holds this connector now: stop quietly, move no cursor. */
export class LeaseLostError extends Error {
  readonly _tag = 'LeaseLostError';
  readonly code = 'LEASE_LOST';
  readonly isRetryable = true;
}

// SPDX-License-Identifier: MIT
// Errors of the local launcher. Each has a stable code; none is worth retrying as is.

/** A server program (PostgreSQL, nats-server) is not installed; `npm run setup` installs it. */
export class MissingBinaryError extends Error {
  readonly _tag = 'MissingBinaryError';
  readonly code = 'BINARY_MISSING';
  readonly isRetryable = false;
}

/** A local server could not be prepared, started or stopped; the message carries the end of its log. */
export class LaunchError extends Error {
  readonly _tag = 'LaunchError';
  readonly code = 'LAUNCH_FAILED';
  readonly isRetryable = false;
}

// SPDX-License-Identifier: MIT
// Errors of the local launcher. Each has a stable code; none is worth retrying as is.
import { TaggedError, type TmiErrorOptions } from '../errors/index.js';

/** A server program (PostgreSQL, nats-server) is not installed; `npm run setup` installs it. */
export class MissingBinaryError extends TaggedError('MissingBinaryError')<'BINARY_MISSING'> {
  constructor(message: string, options?: TmiErrorOptions) {
    super('BINARY_MISSING', message, options);
  }
}

/** A local server could not be prepared, started or stopped; the message carries the end of its log. */
export class LaunchError extends TaggedError('LaunchError')<'LAUNCH_FAILED'> {
  constructor(message: string, options?: TmiErrorOptions) {
    super('LAUNCH_FAILED', message, options);
  }
}

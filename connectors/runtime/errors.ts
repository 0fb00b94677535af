// SPDX-License-Identifier: MIT
// Errors of managed connectors, on the one error base (errors/). The host decides between backing off
// (retryable) and failing (not) from isRetryable alone, never from text.
import { TaggedError } from '../../errors/index.js';

/** A connector definition refused: `member` names the bad member (`config.interval_s`). */
export class ConnectorConfigError extends TaggedError('ConnectorConfigError')<'INVALID_CONNECTOR'> {
  constructor(
    readonly member: string,
    problem: string,
  ) {
    super('INVALID_CONNECTOR', `${member} ${problem}`);
  }
}

/**
 * A source could not be read. `reason` is what the connector's status shows (`HTTP_429`, `TIMEOUT`,
 * `BODY_TOO_LARGE`, `DESTINATION_REFUSED`, a socket error code …); whether to back off or fail is given.
 */
export class SourceError extends TaggedError('SourceError')<'CONNECTOR_SOURCE_FAILED'> {
  constructor(
    readonly reason: string,
    message: string,
    isRetryable: boolean,
    /** The source asked to wait this long (HTTP Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super('CONNECTOR_SOURCE_FAILED', message, { isRetryable });
  }
}

/** Another process holds this connector now: stop quietly, move no cursor. */
export class LeaseLostError extends TaggedError('LeaseLostError')<'CONNECTOR_LEASE_LOST'> {
  constructor(message: string) {
    super('CONNECTOR_LEASE_LOST', message);
  }
}

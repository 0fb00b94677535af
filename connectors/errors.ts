// SPDX-License-Identifier: MIT

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

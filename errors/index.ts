// SPDX-License-Identifier: MIT
// The bottom layer: the error base and the one code catalogue. Imports nothing from the project.

export {
  InvariantError,
  invariant,
  isClientError,
  isInvariantBreach,
  isTmiError,
  RequestRejectedError,
  TaggedError,
  TmiError,
  type TmiErrorOptions,
} from './base.js';
export {
  type CloseCode,
  type CodeSpec,
  catalogue,
  type ErrorCode,
  errorsMarkdown,
  httpStatusOf,
  isErrorCode,
  type ProblemCode,
  specOf,
  wsCloseOf,
} from './catalogue.js';

// SPDX-License-Identifier: MIT
export type { BackoffPolicy } from './backoff.js';
export { backoffDelayMs, parseRetryAfterMs } from './backoff.js';
export { ConnectorConfigError, LeaseLostError, SourceError } from './errors.js';
export type { HostOptions } from './host.js';
export { ConnectorHost } from './host.js';
export { connectorDlqSubject } from './session.js';
export type { ConnectorState, ConnectorStatus } from './status.js';
export { connectorStates, connectorStatuses } from './status.js';
export {
  deleteConnector,
  getConnector,
  insertConnector,
  listConnectors,
  updateConnector,
} from './store.js';
export type {
  ConnectorKind,
  ConnectorRecord,
  ConnectorSession,
  ConnectorType,
  PullSource,
  PushSource,
  SourceEvent,
} from './types.js';
export { connectorTypes, redactedMarker } from './types.js';

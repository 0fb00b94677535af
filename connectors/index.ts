// SPDX-License-Identifier: MIT

export type { AcceptContext, AcceptOptions, AcceptResult } from './accept.js';
export { accept, idempotencyKeyLengthMax } from './accept.js';
export type { FileInfo, FileServiceOptions, FileStoreOptions } from './files/index.js';
export { FileService, FileStore } from './files/index.js';
export type { ConnectorView, HostStart } from './manage.js';
export {
  connectorKinds,
  connectorNamePattern,
  connectorNotFound,
  connectorView,
  createConnector,
  patchConnector,
  removeConnector,
  setPaused,
  startConnectorHost,
} from './manage.js';
export type { NatsSpeakerConnector, SpeakerAuthenticator, SpeakerIdentity } from './nats.js';
export { anonymousNatsSpeaker, speakQueueGroup, startNatsSpeaker } from './nats.js';
export type { ConnectorHost, ConnectorState, ConnectorStatus } from './runtime/index.js';
export {
  ConnectorConfigError,
  connectorDlqSubject,
  connectorStates,
  connectorStatuses,
  connectorTypes,
  getConnector,
  listConnectors,
} from './runtime/index.js';
export { pruneRejectedSpeaks, speakChannel } from './sql/index.js';
export { TargetKindCache, targetCacheTtlMs } from './targets-cache.js';
export type { ErrorAnswer } from './unexpected.js';
export { answerOfUnexpected, jetStreamStorageFullCodes, retryHint } from './unexpected.js';

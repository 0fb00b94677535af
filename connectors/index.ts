// SPDX-License-Identifier: MIT

export type { AcceptContext, AcceptOptions, AcceptResult } from './accept.js';
export { accept, idempotencyKeyLengthMax } from './accept.js';
export type { NatsSpeakerConnector, SpeakerAuthenticator, SpeakerIdentity } from './nats.js';
export { anonymousNatsSpeaker, speakQueueGroup, startNatsSpeaker } from './nats.js';
export { TargetKindCache, targetCacheTtlMs } from './targets-cache.js';

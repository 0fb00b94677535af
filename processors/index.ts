// SPDX-License-Identifier: MIT
export { captureStage } from './capture.js';
export { captureRows } from './capture-core.js';
export type { DecodedEvent, DecodedMessage } from './decode.js';
export { decodeEnvelopes, decodePayloads } from './decode.js';
export { normalizedSubject, normalizeStage } from './normalize.js';
export type { MappingRule, RuleAction } from './normalize-core.js';
export { applyRules, rulesInForce, unitConversions } from './normalize-core.js';
export { projectStage } from './project.js';
export { projectRows } from './project-core.js';
export type {
  DeadLetter,
  OutboundMessage,
  StageDeps,
  StageHandler,
  StageMessage,
  StageName,
  StageResult,
} from './types.js';
export { stageNames } from './types.js';

// SPDX-License-Identifier: MIT
export { alarmStage } from './alarm.js';
export type { BacktestAlarm, BacktestResult } from './alarm-backtest.js';
export { backtestEventsMax, backtestRule } from './alarm-backtest.js';
export type { CoreEvent, EvalState, Transition } from './alarm-core.js';
export { advanceTo, afterManualClear, initialEvalState, stepAll, toEvalState } from './alarm-core.js';
export type { AlarmRule, Condition, RuleDefinition, RuleSpec, Severity } from './alarm-rule.js';
export {
  AlarmRuleInvalidError,
  compareOps,
  describeSpec,
  fenceTriggers,
  parseRuleDefinition,
  radiusMetersMax,
  rangeOps,
  ruleClausesMax,
  ruleDurationSecondsMax,
  ruleFieldNameLengthMax,
  ruleKindPattern,
  ruleTypes,
  severities,
  toAlarmRule,
  toStoredRule,
} from './alarm-rule.js';
export { captureStage } from './capture.js';
export { captureRows } from './capture-core.js';
export type { DecodedEvent, DecodedMessage } from './decode.js';
export { decodeEnvelopes, decodePayloads } from './decode.js';
export { fanoutAlarmStage, fanoutStage } from './fanout.js';
export type {
  FanoutAlarm,
  FanoutEvent,
  Grant,
  ListenOutput,
  ListenPayload,
  Subscription,
  SubscriptionIndex,
} from './fanout-core.js';
export {
  compileIndex,
  fanoutAlarms,
  fanoutEvents,
  grantsFor,
  maskAlarm,
  maskFields,
  metaMatches,
  parseAlarmMessage,
  targetsMissingMeta,
} from './fanout-core.js';
export type { SubscriptionSnapshot, SubscriptionSource } from './fanout-index.js';
export { SubscriptionCache, subscriptionReloadIntervalMs, toSubscription } from './fanout-index.js';
export { geoStage } from './geo.js';
export type { Position, PositionRead } from './geo-core.js';
export { earthRadiusMeters, geoRows, greatCircleMeters, readPosition } from './geo-core.js';
export { normalizedSubject, normalizeStage } from './normalize.js';
export type { MappingRule, RuleAction } from './normalize-core.js';
export { applyRules, rulesInForce, unitConversions } from './normalize-core.js';
export type { EventDeadLetter, Failure, PoisonDeps } from './poison.js';
export {
  deadLetterHeaders,
  headerText,
  isolatePoisonEvents,
  replayForHeader,
  replaySkipHeader,
} from './poison.js';
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

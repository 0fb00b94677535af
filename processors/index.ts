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
// The AI normalizer (issue 11): vocabulary, units, features, the ONNX model, decisions, preview.
export { AliasIndex, resolveRuleFields } from './normalize/aliases.js';
export type { FieldDecision, ModelRole, Prediction, Thresholds } from './normalize/decide.js';
export { decide, modelRoles, readPrediction, unitInName } from './normalize/decide.js';
export { featureVersion } from './normalize/features.js';
export type { FieldSighting, NormalizerOptions } from './normalize/field-normalizer.js';
export { FieldNormalizer, modelRulePosition } from './normalize/field-normalizer.js';
export type { ModelMetadata, NormalizerModel } from './normalize/model.js';
export { loadModel, ModelLoadError, shippedModelPath } from './normalize/model.js';
export type { PreviewField, PreviewResult } from './normalize/preview.js';
export { previewNormalize } from './normalize/preview.js';
export type { Conversion } from './normalize/units.js';
export { conversionOf, convertValue, fractionUnit, sourceUnitsOf } from './normalize/units.js';
export type { VocabularyEntry } from './normalize/vocabulary.js';
export {
  defaultVocabulary,
  vocabularyDescriptionLengthMax,
  vocabularyEntriesMax,
  vocabularyNamePattern,
  vocabularyUnitLengthMax,
} from './normalize/vocabulary.js';
export { normalizedSubject, normalizeStage, toRule } from './normalize.js';
export type { MappingRule, RuleAction } from './normalize-core.js';
export { applyRules, rulesForBatch, rulesInForce, unitConversions } from './normalize-core.js';
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

// SPDX-License-Identifier: MIT
// The alarm stage: rules (alarm-rule), their pure evaluation (alarm-core), the order it applies TMI_NORM in
// (alarm-order), the effectful stage (alarm) and the backtest over stored history (alarm-backtest).
export type { AlarmStageDeps } from './alarm.js';
export { alarmStage } from './alarm.js';
export type { BacktestAlarm, BacktestResult } from './alarm-backtest.js';
export { backtestEventsMax, backtestRule } from './alarm-backtest.js';
export type { CoreEvent, EvalState, Transition } from './alarm-core.js';
export { advanceTo, afterManualClear, initialEvalState, stepAll, toEvalState } from './alarm-core.js';
export type { AlarmRule, Condition, RuleDefinition, RuleSpec, Severity } from './alarm-rule.js';
export {
  AlarmRuleInvalidError,
  compareClauseMembers,
  compareOps,
  describeSpec,
  fenceMembers,
  fenceTriggers,
  parseRuleDefinition,
  radiusMetersMax,
  rangeClauseMembers,
  rangeOps,
  ruleClausesMax,
  ruleCommonMembers,
  ruleDescriptionLengthMax,
  ruleDurationSecondsMax,
  ruleFieldNameLengthMax,
  ruleKindPattern,
  ruleNameLengthMax,
  ruleSpecMembers,
  ruleTypes,
  severities,
  toAlarmRule,
  toStoredRule,
} from './alarm-rule.js';
export { resolveRuleFields, withMappedNames } from './rule-aliases.js';

// SPDX-License-Identifier: MIT
// The alarm read model, one file per aggregate: rules, alarms, their transitions (history + outbox rows),
// the outbox drain, the stage's evaluation state, and the observation history a backtest reads.
export type {
  AlarmEventRow,
  AlarmListQuery,
  AlarmRow,
  AlarmStateName,
  ClearedAlarmRow,
  NewAlarmRow,
} from './alarms.js';
export {
  AlarmClearedError,
  acknowledgeAlarm,
  alarmStateNames,
  clearAlarmByHand,
  getAlarm,
  listAlarmEvents,
  listAlarms,
  writeAlarmChanges,
} from './alarms.js';
export type { HistoryRow } from './history.js';
export { readHistoryPage } from './history.js';
export type { OutboxRow } from './outbox.js';
export { drainOutbox, outboxBacklog } from './outbox.js';
export type { AlarmRulePatch, AlarmRuleRow, NewAlarmRule } from './rules.js';
export {
  deleteAlarmRule,
  forgetTargetAlarms,
  getAlarmRule,
  insertAlarmRule,
  listAlarmRules,
  lockLiveRules,
  lockLiveRuleVersions,
  patchAlarmRule,
  replaceAlarmRule,
} from './rules.js';
export type { StoredStateRow } from './state.js';
export { claimDueStates, lockFrontier, lockStates, saveStates } from './state.js';
export type { AlarmTransitionRecord } from './transitions.js';
export { recordTransitions, transitionMessage } from './transitions.js';

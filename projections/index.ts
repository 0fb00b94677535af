// SPDX-License-Identifier: MIT

export type { CheckpointRow } from './checkpoint.js';
export { CheckpointRegressionError, listCheckpoints, saveCheckpoint } from './checkpoint.js';
export { claimEvents, pruneLedger } from './ledger.js';
export type { MappingRuleRow, NewMappingRule } from './mapping-rules.js';
export {
  deleteMappingRule,
  insertMappingRule,
  listMappingRules,
  loadAllMappingRules,
} from './mapping-rules.js';
export type {
  BucketObsRow,
  FieldAggregates,
  ObsAgg,
  ObsCursor,
  ObsQuery,
  ObsResult,
  ObsSql,
  RawObsRow,
} from './obs.js';
export { bucketObsSql, obsAggs, queryObs, rawObsSql } from './obs.js';
export type { ObsRow, RawRow, StateRow } from './rows.js';
export type { FieldState } from './state.js';
export { getTargetState } from './state.js';
export type { TargetRow } from './targets.js';
export { deleteTarget, getTarget, insertTarget, listTargets, targetKinds, updateTarget } from './targets.js';
export { insertObsRows, insertRawRows, upsertStateRows } from './write.js';

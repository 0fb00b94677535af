// SPDX-License-Identifier: MIT
export * from './alarms/index.js';
export type { CheckpointRow } from './checkpoint.js';
export { CheckpointRegressionError, listCheckpoints, saveCheckpoint } from './checkpoint.js';
export type { CheckpointWriterOptions } from './checkpoint-writer.js';
export { CheckpointWriter, checkpointRetryMs } from './checkpoint-writer.js';
export type { ColumnPlan, SeriesPoint } from './downsample.js';
export { columnPlan, downsampleMinMax, downsamplePointsMax, downsamplePointsMin } from './downsample.js';
export type { GeoRow, NearQuery, NearRow, PositionOut, TraceQuery } from './geo.js';
export { insertTraceRows, nearSql, queryNear, queryTrace, upsertPositionRows } from './geo.js';
export type { ApiKeyRow, KeyScope, NewApiKey, RevokeOutcome } from './keys.js';
export { getApiKey, insertApiKey, keyScopes, listApiKeys, revokeApiKey } from './keys.js';
export type { KindObsRow, KindStateRow, VersionStatus, VersionStatusName } from './kinds.js';
export {
  alarmRulesOfKind,
  contractRevision,
  kindObsRows,
  kindStateRows,
  kindViews,
  listenersNaming,
  notePinnedVersion,
  pinnedVersions,
  setVersionStatus,
  versionStatuses,
} from './kinds.js';
export { claimEvents, pruneLedger } from './ledger.js';
export type {
  ListenerRow,
  ListenerTargetRow,
  MetaScalar,
  NewSubscription,
  SubscriptionRow,
} from './listeners.js';
export {
  addSubscriptions,
  deleteListener,
  deleteSubscription,
  getListenerBy,
  insertListener,
  listenerTargets,
  listListeners,
  loadAllSubscriptions,
  targetMetaOfKinds,
  targetStates,
  updateListener,
} from './listeners.js';
export type {
  MappingRuleAction,
  MappingRuleRow,
  MappingRuleSource,
  NewMappingRule,
  RuleOrigin,
} from './mapping-rules.js';
export {
  deleteMappingRule,
  insertMappingRule,
  listMappingRules,
  loadAllMappingRules,
  mappingRulesVersion,
} from './mapping-rules.js';
export type {
  AliasRow,
  DecisionRow,
  ModelRoleName,
  NewSuggestion,
  SuggestionQuery,
  SuggestionRow,
  SuggestionStatus,
  VocabularyRow,
} from './normalizer.js';
export {
  closeSuggestion,
  deleteVocabulary,
  getSuggestion,
  insertDecision,
  insertSuggestion,
  insertVocabulary,
  listSuggestions,
  listVocabulary,
  loadAliases,
  loadDecisions,
  loadModelRoles,
  setModelRole,
} from './normalizer.js';
export type {
  BucketObsRow,
  BucketSqlRow,
  FieldAggregates,
  ObsAgg,
  ObsCursor,
  ObsQuery,
  ObsResult,
  ObsSql,
  RawObsRow,
} from './obs.js';
export {
  BucketStartFormatter,
  bucketCellsJson,
  bucketColumns,
  bucketObsSql,
  bucketPage,
  obsAggs,
  queryObs,
  rawObsSql,
  toDouble,
} from './obs.js';
export type { ObsPointsQuery, ObsSeries } from './obs-points.js';
export { obsPointsSql, queryObsPoints } from './obs-points.js';
export type { MicrosRange, RangeSplit } from './obs-rollups.js';
export {
  queryObsPointsRolledUp,
  queryObsRolledUp,
  rolledUpBucketSql,
  rolledUpPointsSql,
  rollupFor,
  splitRange,
} from './obs-rollups.js';
export type { PositionListRow } from './positions.js';
export { listPositions } from './positions.js';
export type { RollupCell, RollupWidth } from './rollups.js';
export { insertedObsRows, mergeRollupCells, rebuildRollups, rollupTable, rollupWidths } from './rollups.js';
export type { ObsRow, RawRow, StateRow } from './rows.js';
export type { SkipRow } from './skips.js';
export { countSkips, insertSkipRows, pruneSkips } from './skips.js';
export { isoOf } from './sql.js';
export type { FieldState, TargetRead } from './target-read.js';
export { getTargetRead } from './target-read.js';
export type { TargetRow } from './targets.js';
export { deleteTarget, getTarget, insertTarget, listTargets, targetKinds, updateTarget } from './targets.js';
export { fromMicrosSql, insertObsRows, insertRawRows, upsertStateRows } from './write.js';

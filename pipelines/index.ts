// SPDX-License-Identifier: MIT

export type { DeadLetterDetail, DeadLetterEntry } from './dlq.js';
export {
  deadLetterDepth,
  deadLetterListMax,
  listDeadLetters,
  replayDeadLetter,
  showDeadLetter,
} from './dlq.js';
export type { ClassifiedError } from './errors.js';
export { classifyError, InvariantError, invariant } from './errors.js';
export { ensureTopology, JetStreamSetupError } from './jetstream.js';
export * as limits from './limits.js';
export type { Metrics } from './metrics.js';
export { createMetrics } from './metrics.js';
export type { StagePause } from './pause.js';
export { pauseHorizonDays, pauseStage, resumeStage } from './pause.js';
export { publishAll } from './publish.js';
export type { ReplayableStage, ReplayDeps, ReplayProgress, ReplayRange, ReplaySummary } from './replay.js';
export { isReplayable, replayableStages, replayStage } from './replay.js';
export type { RunningStage, RunStageOptions } from './runner/index.js';
export { runStage } from './runner/index.js';
export type { PipelineContext } from './stages.js';
export { stageHandler, stageRunOptions, startStages, stopStages } from './stages.js';
export type { StageStatus } from './status.js';
export { pipelineStatus } from './status.js';
export type { StageName, StageSpec, StreamSpec, Topology } from './topology.js';
export { stageNames, topology } from './topology.js';

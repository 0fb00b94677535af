// SPDX-License-Identifier: MIT
// The stages, each a pure core plus a thin effectful part; stages with more than two files have a folder.
export * from './alarm/index.js';
export { captureStage } from './capture.js';
export { captureRows } from './capture-core.js';
export type { DecodedEvent, DecodedMessage } from './decode.js';
export { decodeEnvelopeHeads, decodeEnvelopes, decodePayloads } from './decode.js';
export * from './fanout/index.js';
export { geoStage } from './geo.js';
export type { Position, PositionRead } from './geo-core.js';
export {
  earthRadiusMeters,
  geoRows,
  greatCircleMeters,
  latitudeDegreesMax,
  longitudeDegreesMax,
  readPosition,
} from './geo-core.js';
export * from './normalize/index.js';
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
export { rollUpInsertedObs } from './rollup.js';
export { rollupCells } from './rollup-core.js';
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

// SPDX-License-Identifier: MIT

export type { DecodeSchema, EncodeSchema } from './codec.js';
export { avroType, decodePayload, encodePayload, fingerprintOf, fingerprintOfType } from './codec.js';
export type { FieldChange, Incompatibility, ReadProblem } from './compatibility.js';
export { fieldChanges, incompatibility, isTransitive, readProblem } from './compatibility.js';
export type { DryRun } from './dry-run.js';
export { dryRun } from './dry-run.js';
export type { EnvelopeHead, EventEnvelope } from './envelope.js';
export {
  decodeEventBatch,
  decodeEventHeads,
  EnvelopeDecodeError,
  encodeEventBatch,
  eventBatchType,
  eventType,
} from './envelope.js';
export {
  InvalidDataError,
  PayloadDecodeError,
  SchemaConflictError,
  SchemaNotFoundError,
  VersionUnreadableError,
} from './errors.js';
export {
  avroNameOf,
  fieldAt,
  fieldNameJsonPattern,
  fieldNameLengthMax,
  fieldNameOfAvro,
  fieldNameProblem,
  needsAvroEncoding,
} from './field-names.js';
export { batchMessageId, isUuid, uuidFromName, uuidv7 } from './ids.js';
export type { InferLimits } from './infer.js';
export {
  depthMaxDefault,
  fieldNameLengthMaxDefault,
  fitsSchema,
  inferSchema,
  recordNameOf,
  unstorableCharacter,
} from './infer.js';
export type { MergeResult } from './merge.js';
export { countFields, describeType, mergeMany, mergeSchemas, payloadRecordName } from './merge.js';
export { narrowedTo, readAs, readableAs } from './read-as.js';
export type { PreparedSchema } from './registry.js';
export { conflictRecheckMs, SchemaRegistry } from './registry.js';
export {
  InvalidTimestampError,
  microsToIso,
  nowMicros,
  parseTimestampMicros,
  timestampMaxMicros,
  timestampMinMicros,
} from './time.js';
export type {
  AvroArraySchema,
  AvroField,
  AvroFieldType,
  AvroItemsType,
  AvroNullableType,
  AvroPrimitiveType,
  AvroRecordSchema,
  AvroValueType,
  Compatibility,
  RegisteredSchema,
  SubjectSummary,
} from './types.js';
export { compatibilities } from './types.js';

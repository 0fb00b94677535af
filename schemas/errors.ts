// SPDX-License-Identifier: MIT
// Tagged errors of the schema registry and the payload codec, classified by `code`.
import { TaggedError } from '../errors/index.js';

/** The data of a write cannot become a payload (bad field name, limit exceeded, mixed array …). 400. */
export class InvalidDataError extends TaggedError('InvalidDataError')<'INVALID_DATA'> {
  /**
   * @param path where in the data: `data`, `data.engine.temp`, `data.tags[3]`.
   * @param index the position of the offending item when a batch was checked (`ensure` with many datas).
   */
  constructor(
    message: string,
    readonly path: string,
    readonly index?: number,
  ) {
    super('INVALID_DATA', message);
  }

  /** The same error located in item `index` of a batch (message prefixed with `events[<index>]: `). */
  atIndex(index: number): InvalidDataError {
    return new InvalidDataError(`events[${index}]: ${this.message}`, this.path, index);
  }
}

/** A field would change type and the subject's compatibility mode forbids it. 409. */
export class SchemaConflictError extends TaggedError('SchemaConflictError')<'SCHEMA_CONFLICT'> {
  /**
   * @param field dotted path of the field: `temp`, `engine.temp`, `readings[].value`.
   * @param existingType, incomingType readable types: `double`, `string`, `boolean`, `object`, `array of double`.
   * @param version the registered version holding `existingType`; null when two items of one write disagree.
   * @param mode the compatibility mode that refuses the change (absent when two items of one write disagree).
   */
  constructor(
    readonly subject: string,
    readonly field: string,
    readonly existingType: string,
    readonly incomingType: string,
    readonly version: number | null,
    readonly mode?: string,
  ) {
    super(
      'SCHEMA_CONFLICT',
      `field '${field}' of kind '${subject}' is ${existingType} ` +
        (version === null ? 'in another event of this write' : `in version ${version}`) +
        `, cannot become ${incomingType}` +
        (mode === undefined ? '' : ` under compatibility ${mode}`),
    );
  }
}

/** No registered schema has this id. 404. */
export class SchemaNotFoundError extends TaggedError('SchemaNotFoundError')<'SCHEMA_NOT_FOUND'> {
  constructor(readonly schemaId: number) {
    super('SCHEMA_NOT_FOUND', `no schema with schema_id ${schemaId}`);
  }
}

/** Payload bytes that do not decode with their writer schema (or cannot be read as the reader schema). */
export class PayloadDecodeError extends TaggedError('PayloadDecodeError')<'PAYLOAD_UNDECODABLE'> {
  constructor(message: string, cause?: unknown) {
    super('PAYLOAD_UNDECODABLE', message, { cause });
  }
}

/** Data written under one version cannot be read as another (a field's types do not resolve). 422. */
export class VersionUnreadableError extends TaggedError('VersionUnreadableError')<'VERSION_UNREADABLE'> {
  constructor(
    readonly subject: string,
    readonly writerVersion: number,
    readonly readerVersion: number,
    readonly problem: { readonly field: string; readonly writerType: string; readonly readerType: string },
  ) {
    super(
      'VERSION_UNREADABLE',
      `data of '${subject.replace(/#norm$/, '')}' written under version ${writerVersion} cannot be read as version ${readerVersion}: ` +
        `field '${problem.field}' is ${problem.writerType} in version ${writerVersion} and ` +
        `${problem.readerType} in version ${readerVersion}; version ${writerVersion} reads it`,
    );
  }
}

// SPDX-License-Identifier: MIT
// Tagged errors of the schema registry and the payload codec, classified by `code`.

/** The data of a write cannot become a payload (bad field name, limit exceeded, mixed array …). 400. */
export class InvalidDataError extends Error {
  readonly _tag = 'InvalidDataError';
  readonly code = 'INVALID_DATA';
  readonly status = 400;
  readonly isRetryable = false;
  /**
   * @param path where in the data: `data`, `data.engine.temp`, `data.tags[3]`.
   * @param index the position of the offending item when a batch was checked (`ensure` with many datas).
   */
  constructor(
    message: string,
    readonly path: string,
    readonly index?: number,
  ) {
    super(message);
    this.name = 'InvalidDataError';
  }

  /** The same error located in item `index` of a batch (message prefixed with `events[<index>]: `). */
  atIndex(index: number): InvalidDataError {
    return new InvalidDataError(`events[${index}]: ${this.message}`, this.path, index);
  }
}

/** A field would change type and the subject's compatibility mode forbids it. 409. */
export class SchemaConflictError extends Error {
  readonly _tag = 'SchemaConflictError';
  readonly code = 'SCHEMA_CONFLICT';
  readonly status = 409;
  readonly isRetryable = false;
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
      `field '${field}' of kind '${subject}' is ${existingType} ` +
        (version === null ? 'in another event of this write' : `in version ${version}`) +
        `, cannot become ${incomingType}` +
        (mode === undefined ? '' : ` under compatibility ${mode}`),
    );
    this.name = 'SchemaConflictError';
  }
}

/** No registered schema has this id. 404. */
export class SchemaNotFoundError extends Error {
  readonly _tag = 'SchemaNotFoundError';
  readonly code = 'SCHEMA_NOT_FOUND';
  readonly status = 404;
  readonly isRetryable = false;
  constructor(readonly schemaId: number) {
    super(`no schema with schema_id ${schemaId}`);
    this.name = 'SchemaNotFoundError';
  }
}

/** Payload bytes that do not decode with their writer schema (or cannot be read as the reader schema). */
export class PayloadDecodeError extends Error {
  readonly _tag = 'PayloadDecodeError';
  readonly code = 'PAYLOAD_UNDECODABLE';
  readonly status = 422;
  readonly isRetryable = false;
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'PayloadDecodeError';
  }
}

/** Data written under one version cannot be read as another (a field's types do not resolve). 422. */
export class VersionUnreadableError extends Error {
  readonly _tag = 'VersionUnreadableError';
  readonly code = 'VERSION_UNREADABLE';
  readonly status = 422;
  readonly isRetryable = false;
  constructor(
    readonly subject: string,
    readonly writerVersion: number,
    readonly readerVersion: number,
    readonly problem: { readonly field: string; readonly writerType: string; readonly readerType: string },
  ) {
    super(
      `data of '${subject.replace(/#norm$/, '')}' written under version ${writerVersion} cannot be read as version ${readerVersion}: ` +
        `field '${problem.field}' is ${problem.writerType} in version ${writerVersion} and ` +
        `${problem.readerType} in version ${readerVersion}; version ${writerVersion} reads it`,
    );
    this.name = 'VersionUnreadableError';
  }
}

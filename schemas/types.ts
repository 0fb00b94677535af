// SPDX-License-Identifier: MIT
// The subset of Avro that payload schemas inferred from JSON use. Every record field is optional
// (`['null', T]` with default null); `'null'` alone means "seen only as null, type not yet known".
import type avro from 'avsc';

/** A JSON primitive's Avro type. Every JSON number is a `double` (5 then 5.5 is no type change). */
export type AvroPrimitiveType = 'boolean' | 'double' | 'string';

/** A known (non-null) type: a primitive, a nested record (a JSON object) or an array. */
export type AvroValueType = AvroPrimitiveType | AvroRecordSchema | AvroArraySchema;

/** A nullable known type. */
export type AvroNullableType = readonly ['null', AvroValueType];

/** A record field's type: unknown (`'null'`) or a nullable known type. */
export type AvroFieldType = 'null' | AvroNullableType;

/** An array's items: unknown (`'null'`: empty or all null), known, or known with null elements. */
export type AvroItemsType = 'null' | AvroValueType | AvroNullableType;

export interface AvroField {
  readonly name: string;
  readonly type: AvroFieldType;
  readonly default: null;
}

export interface AvroRecordSchema {
  readonly type: 'record';
  readonly name: string;
  readonly fields: readonly AvroField[];
}

export interface AvroArraySchema {
  readonly type: 'array';
  readonly items: AvroItemsType;
}

/**
 * A subject's compatibility mode, as Confluent's Schema Registry means it (see compatibility.ts):
 * `BACKWARD` (the default) — a new version reads the previous version's data; `FORWARD` — the previous
 * version reads the new one's; `FULL` — both; `*_TRANSITIVE` — against every earlier version; `NONE` —
 * anything goes (a changed type replaces the old one).
 */
export type Compatibility =
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE'
  | 'NONE';

export const compatibilities: readonly Compatibility[] = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
];

/** One registered, immutable version of a subject's payload schema (a row of `tmi.model_versions`). */
export interface RegisteredSchema {
  readonly schemaId: number;
  readonly subject: string;
  readonly version: number;
  readonly schema: AvroRecordSchema;
  /** sha256 (hex) of the Avro Parsing Canonical Form. */
  readonly fingerprint: string;
  readonly type: avro.Type;
  /** ISO-8601. */
  readonly createdAt: string;
}

/** One subject (a target kind, or `<kind>#norm`) as `list()` reports it. */
export interface SubjectSummary {
  readonly subject: string;
  readonly compatibility: Compatibility;
  /** null while the subject has no version yet. */
  readonly latestVersion: number | null;
  readonly latestSchemaId: number | null;
  readonly versions: number;
  /** ISO-8601. */
  readonly createdAt: string;
}

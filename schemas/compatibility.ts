// SPDX-License-Identifier: MIT
// Compatibility of payload schema versions with the meaning Confluent's Schema Registry gives the modes:
// BACKWARD — the new version can read data written with the previous one; FORWARD — the previous version
// can read data written with the new one; FULL — both; *_TRANSITIVE — against every earlier version, not
// only the latest; NONE — no check. "Can read" is Avro's schema resolution (the rules avsc's
// createResolver applies), decided here on the subset of Avro that inferred schemas use, so a refusal
// names the field and both types.
import { coreOf, describeType } from './merge.js';
import type {
  AvroFieldType,
  AvroItemsType,
  AvroRecordSchema,
  AvroValueType,
  Compatibility,
} from './types.js';

/** Why a reader schema cannot read what a writer schema wrote: the first field that does not resolve. */
export interface ReadProblem {
  /** Dotted path (`engine.temp`, `readings[].value`). */
  readonly field: string;
  readonly writerType: string;
  readonly readerType: string;
}

/** A version the mode refuses, with the field that breaks it (old and new type as the versions hold them). */
export interface Incompatibility {
  readonly field: string;
  /** The field's type in the earlier version `version`. */
  readonly from: string;
  /** The field's type in the new schema. */
  readonly to: string;
  readonly version: number;
  /** backward: the new schema cannot read the old data; forward: the old schema cannot read the new data. */
  readonly direction: 'backward' | 'forward';
}

/** One field added, changed or removed between two versions. */
export interface FieldChange {
  readonly field: string;
  /** null: the field is new. */
  readonly from: string | null;
  /** null: the field is gone. */
  readonly to: string | null;
}

export function isTransitive(mode: Compatibility): boolean {
  return mode.endsWith('_TRANSITIVE');
}

/** The first problem reading data written with `writer` as `reader`; undefined when it resolves. */
export function readProblem(reader: AvroRecordSchema, writer: AvroRecordSchema): ReadProblem | undefined {
  return recordProblem(reader, writer, '');
}

/**
 * Whether `candidate` may follow `earlier` (oldest first; their `version` numbers) under `mode`: the
 * first incompatibility, or undefined. Non-transitive modes look at the latest earlier version only.
 */
export function incompatibility(
  mode: Compatibility,
  candidate: AvroRecordSchema,
  earlier: readonly { readonly schema: AvroRecordSchema; readonly version: number }[],
): Incompatibility | undefined {
  if (mode === 'NONE') return undefined;
  const against = isTransitive(mode) ? [...earlier].reverse() : earlier.slice(-1);
  const backward = mode.startsWith('BACKWARD') || mode.startsWith('FULL');
  const forward = mode.startsWith('FORWARD') || mode.startsWith('FULL');
  for (const { schema, version } of against) {
    if (backward) {
      const p = readProblem(candidate, schema);
      if (p) return { field: p.field, from: p.writerType, to: p.readerType, version, direction: 'backward' };
    }
    if (forward) {
      const p = readProblem(schema, candidate);
      if (p) return { field: p.field, from: p.readerType, to: p.writerType, version, direction: 'forward' };
    }
  }
  return undefined;
}

/** Fields added, changed (type) or removed from `before` to `after`, at every depth, by path. */
export function fieldChanges(before: AvroRecordSchema | undefined, after: AvroRecordSchema): FieldChange[] {
  const out: FieldChange[] = [];
  collectChanges(before, after, '', out);
  return out.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}

function collectChanges(
  before: AvroRecordSchema | undefined,
  after: AvroRecordSchema | undefined,
  path: string,
  out: FieldChange[],
): void {
  const old = new Map((before?.fields ?? []).map((f) => [f.name, f.type]));
  for (const field of after?.fields ?? []) {
    const at = path === '' ? field.name : `${path}.${field.name}`;
    const prior = old.get(field.name);
    old.delete(field.name);
    if (prior === undefined) {
      out.push({ field: at, from: null, to: describeType(field.type) });
      continue;
    }
    const [a, b] = [coreOf(prior), coreOf(field.type)];
    if (a !== undefined && b !== undefined && isRecord(a) && isRecord(b)) {
      collectChanges(a, b, at, out);
    } else if (describeType(prior) !== describeType(field.type) || !sameItems(a, b)) {
      out.push({ field: at, from: describeType(prior), to: describeType(field.type) });
    }
  }
  for (const [name, type] of old) {
    out.push({ field: path === '' ? name : `${path}.${name}`, from: describeType(type), to: null });
  }
}

function sameItems(a: AvroValueType | undefined, b: AvroValueType | undefined): boolean {
  if (a === undefined || b === undefined || typeof a === 'string' || typeof b === 'string') return true;
  if (a.type !== 'array' || b.type !== 'array') return true;
  return readProblem(wrap(a), wrap(b)) === undefined && readProblem(wrap(b), wrap(a)) === undefined;
}

function wrap(type: AvroValueType): AvroRecordSchema {
  return { type: 'record', name: 'Payload', fields: [{ name: 'v', type: ['null', type], default: null }] };
}

function isRecord(type: AvroValueType): type is AvroRecordSchema {
  return typeof type !== 'string' && type.type === 'record';
}

// ── Avro resolution on the inferred subset ────────────────────────────────────

function recordProblem(
  reader: AvroRecordSchema,
  writer: AvroRecordSchema,
  path: string,
): ReadProblem | undefined {
  const readerFields = new Map(reader.fields.map((f) => [f.name, f.type]));
  // A writer field the reader lacks is skipped; a reader field the writer lacks takes its default (null).
  for (const field of writer.fields) {
    const readerType = readerFields.get(field.name);
    if (readerType === undefined) continue;
    const at = path === '' ? field.name : `${path}.${field.name}`;
    const problem = fieldProblem(readerType, field.type, at);
    if (problem) return problem;
  }
  return undefined;
}

/** Field types are `'null'` or `['null', T]`; a writer union resolves when each of its branches does. */
function fieldProblem(reader: AvroFieldType, writer: AvroFieldType, path: string): ReadProblem | undefined {
  const w = coreOf(writer);
  if (w === undefined) return undefined; // null reads as null, and as the null branch of a union
  const r = coreOf(reader);
  if (r === undefined) return mismatch(path, writer, reader);
  return valueProblem(r, w, path);
}

/** Array items may be non-nullable: `'null'`, `T`, or `['null', T]`. */
function itemsProblem(reader: AvroItemsType, writer: AvroItemsType, path: string): ReadProblem | undefined {
  const writerNullable = writer === 'null' || Array.isArray(writer);
  const readerNullable = reader === 'null' || Array.isArray(reader);
  if (writerNullable && !readerNullable) {
    const writerType = writer === 'null' ? 'null' : `${describeType(writer)} or null`;
    return { field: path, writerType, readerType: describeType(reader) };
  }
  const w = coreOf(writer);
  if (w === undefined) return undefined;
  const r = coreOf(reader);
  if (r === undefined) return mismatch(path, writer, reader);
  return valueProblem(r, w, path);
}

function valueProblem(reader: AvroValueType, writer: AvroValueType, path: string): ReadProblem | undefined {
  // Inferred schemas use double, string and boolean only: Avro promotes none of them to another.
  if (typeof reader === 'string' || typeof writer === 'string') {
    return reader === writer ? undefined : mismatch(path, writer, reader);
  }
  if (reader.type === 'record' && writer.type === 'record') {
    // Record names follow the field path (infer.ts), so the same path always names records alike.
    if (reader.name !== writer.name) return mismatch(path, writer, reader);
    return recordProblem(reader, writer, path);
  }
  if (reader.type === 'array' && writer.type === 'array') {
    return itemsProblem(reader.items, writer.items, `${path}[]`);
  }
  return mismatch(path, writer, reader);
}

function mismatch(
  path: string,
  writer: AvroFieldType | AvroItemsType,
  reader: AvroFieldType | AvroItemsType,
): ReadProblem {
  return { field: path, writerType: describeType(writer), readerType: describeType(reader) };
}

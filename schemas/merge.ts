// SPDX-License-Identifier: MIT
// Pure merging of inferred payload schemas: the union of fields, `null` (unknown) widened by a known
// type, records merged field by field, arrays by their items. Any other difference is a type change.
// The result is canonical (fields sorted by name at every level), so merging compatible schemas in any
// order gives the same schema and fingerprint. A merge that adds nothing returns the existing object
// itself, which is how `changed` is detected without hashing.
import { SchemaConflictError } from './errors.js';
import type {
  AvroField,
  AvroFieldType,
  AvroItemsType,
  AvroRecordSchema,
  AvroValueType,
  Compatibility,
} from './types.js';

/** Root record name of every payload schema; nested records are named after their path (see infer.ts). */
export const payloadRecordName = 'Payload';

/**
 * Decides a type change at `path` (a dotted field path, `[]` marking array items): returns the type to
 * keep, or throws.
 */
export type ConflictHandler = (
  path: string,
  existing: AvroValueType,
  incoming: AvroValueType,
) => AvroValueType;

export interface MergeResult {
  readonly schema: AvroRecordSchema;
  /** false when `incoming` adds nothing to `existing` (then `schema` is `existing` itself). */
  readonly changed: boolean;
}

/**
 * Merges `incoming` into `existing` (the latest registered version `existingVersion` of `subject`).
 * A type change throws SchemaConflictError under every mode but NONE, where the incoming type replaces
 * it. (Whether the merged schema may follow the earlier versions is compatibility.ts's to decide.)
 */
export function mergeSchemas(
  subject: string,
  existing: AvroRecordSchema | undefined,
  incoming: AvroRecordSchema,
  existingVersion: number,
  compatibility: Compatibility,
): MergeResult {
  if (existing === undefined) return { schema: incoming, changed: true };
  const onConflict: ConflictHandler =
    compatibility === 'NONE'
      ? (_path, _existing, replacement) => replacement
      : (path, old, replacement) => {
          throw new SchemaConflictError(
            subject,
            path,
            describeType(old),
            describeType(replacement),
            existingVersion,
            compatibility,
          );
        };
  const schema = mergeRecords(existing, incoming, '', onConflict);
  return { schema, changed: schema !== existing };
}

/**
 * Merges the schemas of the items of one write. They must agree with each other whatever the subject's
 * compatibility mode (one schema has to encode them all): a disagreement throws SchemaConflictError
 * with `version` null.
 */
export function mergeMany(subject: string, schemas: readonly AvroRecordSchema[]): AvroRecordSchema {
  const onConflict: ConflictHandler = (path, old, replacement) => {
    throw new SchemaConflictError(subject, path, describeType(old), describeType(replacement), null);
  };
  let merged: AvroRecordSchema | undefined;
  for (const schema of schemas)
    merged = merged === undefined ? schema : mergeRecords(merged, schema, '', onConflict);
  return merged ?? { type: 'record', name: payloadRecordName, fields: [] };
}

/** Merges two records with the same name; returns `a` itself when `b` adds nothing. */
export function mergeRecords(
  a: AvroRecordSchema,
  b: AvroRecordSchema,
  path: string,
  onConflict: ConflictHandler,
): AvroRecordSchema {
  if (a === b) return a;
  const incoming = new Map<string, AvroField>();
  for (const field of b.fields) incoming.set(field.name, field);
  let changed = false;
  const fields: AvroField[] = [];
  for (const fa of a.fields) {
    const fb = incoming.get(fa.name);
    if (fb === undefined) {
      fields.push(fa);
      continue;
    }
    incoming.delete(fa.name);
    const type = mergeFieldTypes(fa.type, fb.type, path === '' ? fa.name : `${path}.${fa.name}`, onConflict);
    if (type === fa.type) {
      fields.push(fa);
    } else {
      changed = true;
      fields.push({ name: fa.name, type, default: null });
    }
  }
  if (incoming.size > 0) {
    changed = true;
    fields.push(...incoming.values());
  }
  if (!changed) return a;
  fields.sort(byName);
  return { type: 'record', name: a.name, fields };
}

/** Merges two known types; returns `a` itself when `b` adds nothing. */
export function mergeValueTypes(
  a: AvroValueType,
  b: AvroValueType,
  path: string,
  onConflict: ConflictHandler,
): AvroValueType {
  if (a === b) return a;
  if (typeof a === 'string' || typeof b === 'string') return onConflict(path, a, b);
  if (a.type === 'record' && b.type === 'record') return mergeRecords(a, b, path, onConflict);
  if (a.type === 'array' && b.type === 'array') {
    // An item type change is reported for the whole array ("array of double" → "array of string");
    // changes inside records held by the array are reported at their own path (`readings[].value`).
    if (!sameShape(a, b)) return onConflict(path, a, b);
    const items = mergeItemsTypes(a.items, b.items, `${path}[]`, onConflict);
    return items === a.items ? a : { type: 'array', items };
  }
  return onConflict(path, a, b);
}

/**
 * Merges array item types. Unknown items (`'null'`: empty or all-null arrays) count as nullable, so
 * `[]` or `[null]` merged with `[1]` gives `['null', 'double']`, which encodes all three.
 */
export function mergeItemsTypes(
  a: AvroItemsType,
  b: AvroItemsType,
  path: string,
  onConflict: ConflictHandler,
): AvroItemsType {
  if (a === b) return a;
  const ca = coreOf(a);
  const cb = coreOf(b);
  const nullable = isNullable(a) || isNullable(b);
  const core = ca === undefined ? cb : cb === undefined ? ca : mergeValueTypes(ca, cb, path, onConflict);
  if (core === undefined) return a;
  if (core === ca && nullable === isNullable(a)) return a;
  return nullable ? ['null', core] : core;
}

function mergeFieldTypes(
  a: AvroFieldType,
  b: AvroFieldType,
  path: string,
  onConflict: ConflictHandler,
): AvroFieldType {
  if (b === 'null' || a === b) return a;
  if (a === 'null') return b;
  const core = mergeValueTypes(a[1], b[1], path, onConflict);
  return core === a[1] ? a : ['null', core];
}

/** Whether two types can merge without a type change at their top level (records merge field by field). */
function sameShape(a: AvroValueType, b: AvroValueType): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.type === 'record' || b.type === 'record') return a.type === b.type;
  const ia = coreOf(a.items);
  const ib = coreOf(b.items);
  return ia === undefined || ib === undefined || sameShape(ia, ib);
}

/** The known type inside a field or items type; undefined for `'null'`. */
export function coreOf(type: AvroFieldType | AvroItemsType): AvroValueType | undefined {
  if (type === 'null') return undefined;
  if (isUnion(type)) return type[1];
  return type;
}

function isNullable(type: AvroItemsType): boolean {
  return type === 'null' || isUnion(type);
}

function isUnion(type: AvroFieldType | AvroItemsType): type is readonly ['null', AvroValueType] {
  return Array.isArray(type);
}

/** A type in words, for messages: `double`, `string`, `boolean`, `object`, `array of double`, `null`. */
export function describeType(type: AvroFieldType | AvroItemsType): string {
  const core = coreOf(type);
  if (core === undefined) return 'null';
  if (typeof core === 'string') return core;
  if (core.type === 'record') return 'object';
  return core.items === 'null' ? 'array' : `array of ${describeType(core.items)}`;
}

/** Number of fields at every depth (records inside arrays count once). */
export function countFields(schema: AvroRecordSchema): number {
  let n = 0;
  for (const field of schema.fields) n += 1 + countIn(coreOf(field.type));
  return n;
}

function countIn(type: AvroValueType | undefined): number {
  if (type === undefined || typeof type === 'string') return 0;
  if (type.type === 'record') return countFields(type);
  return countIn(coreOf(type.items));
}

function byName(a: AvroField, b: AvroField): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

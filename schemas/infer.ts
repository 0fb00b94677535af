// SPDX-License-Identifier: MIT
// Pure inference of an Avro payload schema from one JSON object, checking the write limits on the way.
import { InvalidDataError } from './errors.js';
import { avroNameOf, fieldNameLengthMax, fieldNameProblem } from './field-names.js';
import { countFields, describeType, mergeValueTypes, payloadRecordName } from './merge.js';
import type { AvroArraySchema, AvroField, AvroItemsType, AvroRecordSchema, AvroValueType } from './types.js';

export interface InferLimits {
  /** Fields of one write, counted at every depth (the fields of objects inside an array count once). */
  readonly fieldsMax: number;
  /** Characters (Unicode code points) of any string value, also inside arrays. */
  readonly stringLengthMax: number;
  /** Characters (code points) of a field name; default `fieldNameLengthMaxDefault`. */
  readonly fieldNameLengthMax?: number;
  /** Nesting of objects and arrays, the data object itself being depth 1; default `depthMaxDefault`. */
  readonly depthMax?: number;
}

export const fieldNameLengthMaxDefault = fieldNameLengthMax;
export const depthMaxDefault = 8;

interface Context {
  readonly fieldsMax: number;
  readonly stringLengthMax: number;
  readonly fieldNameLengthMax: number;
  readonly depthMax: number;
}

/**
 * Avro name of the record at `path` (the field names leading to it): `Payload` for the data object,
 * else `p_` then each name's Avro spelling prefixed by its length, e.g. `p_6engine_3oil` for
 * `data.engine.oil`. The length prefix keeps names unique (`engine_oil` → `p_10engine_oil`); objects
 * inside an array are named after the array's field. Names never depend on the data, so every version
 * names a record alike and writer → reader resolution matches them.
 */
export function recordNameOf(path: readonly string[]): string {
  if (path.length === 0) return payloadRecordName;
  return `p_${path
    .map((name) => {
      const avro = avroNameOf(name);
      return `${avro.length}${avro}`;
    })
    .join('_')}`;
}

/** Infers the payload schema of `data`, a plain JSON object; throws InvalidDataError on bad data. */
export function inferSchema(data: unknown, limits: InferLimits): AvroRecordSchema {
  const ctx: Context = {
    fieldsMax: limits.fieldsMax,
    stringLengthMax: limits.stringLengthMax,
    fieldNameLengthMax: limits.fieldNameLengthMax ?? fieldNameLengthMaxDefault,
    depthMax: limits.depthMax ?? depthMaxDefault,
  };
  if (!isPlainObject(data)) {
    throw new InvalidDataError(`data must be a JSON object, not ${jsonKind(data)}`, 'data');
  }
  const schema = inferRecord(data, 'data', [], 1, ctx);
  const fields = countFields(schema);
  if (fields > ctx.fieldsMax) {
    throw new InvalidDataError(
      `data has ${fields} fields (nested ones included), more than the limit of ${ctx.fieldsMax}`,
      'data',
    );
  }
  return schema;
}

function inferRecord(
  obj: Record<string, unknown>,
  where: string,
  path: readonly string[],
  depth: number,
  ctx: Context,
): AvroRecordSchema {
  checkDepth(where, depth, ctx);
  const names = Object.keys(obj);
  if (names.length > ctx.fieldsMax) {
    throw new InvalidDataError(
      `${where} has ${names.length} fields, more than the limit of ${ctx.fieldsMax}`,
      where,
    );
  }
  names.sort();
  const fields: AvroField[] = [];
  for (const name of names) {
    checkFieldName(name, where, ctx);
    const value = obj[name];
    if (value === undefined) continue; // as JSON.stringify would: absent
    const type = inferValue(value, `${where}.${name}`, [...path, name], depth, ctx);
    fields.push({ name, type: type === 'null' ? 'null' : ['null', type], default: null });
  }
  return { type: 'record', name: recordNameOf(path), fields };
}

/** `depth` is the depth of the container holding `value`. */
function inferValue(
  value: unknown,
  where: string,
  path: readonly string[],
  depth: number,
  ctx: Context,
): 'null' | AvroValueType {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new InvalidDataError(`${where} is ${value}; numbers must be finite`, where);
      }
      return 'double';
    case 'string':
      checkString(value, where, ctx);
      return 'string';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return inferArray(value, where, path, depth + 1, ctx);
      if (isPlainObject(value)) return inferRecord(value, where, path, depth + 1, ctx);
      throw new InvalidDataError(`${where} is ${jsonKind(value)}; only JSON values are allowed`, where);
    default:
      throw new InvalidDataError(`${where} is ${jsonKind(value)}; only JSON values are allowed`, where);
  }
}

function inferArray(
  arr: readonly unknown[],
  where: string,
  path: readonly string[],
  depth: number,
  ctx: Context,
): AvroArraySchema {
  checkDepth(where, depth, ctx);
  let core: AvroValueType | undefined;
  let sawNull = false;
  for (let i = 0; i < arr.length; i++) {
    const at = `${where}[${i}]`;
    const element = arr[i];
    // undefined (a hole) becomes null, as JSON.stringify would make it
    const type = element === undefined ? 'null' : inferValue(element, at, path, depth, ctx);
    if (type === 'null') {
      sawNull = true;
    } else if (core === undefined) {
      core = type;
    } else {
      const previous: AvroValueType = core;
      core = mergeValueTypes(previous, type, '', (inner, earlier, later) => {
        const detail = inner === '' ? at : `${at}.${inner.replaceAll('[]', '[…]')}`;
        throw new InvalidDataError(
          `array ${where} mixes types: ${detail} is ${describeType(later)} where earlier elements have ` +
            `${describeType(earlier)}; all elements of an array must have the same type`,
          at,
        );
      });
    }
  }
  const items: AvroItemsType = core === undefined ? 'null' : sawNull ? ['null', core] : core;
  return { type: 'array', items };
}

function checkDepth(where: string, depth: number, ctx: Context): void {
  if (depth > ctx.depthMax) {
    throw new InvalidDataError(
      `${where} is nested ${depth} levels deep (objects and arrays), more than the limit of ${ctx.depthMax}`,
      where,
    );
  }
}

function checkFieldName(name: string, where: string, ctx: Context): void {
  const problem = fieldNameProblem(name, ctx.fieldNameLengthMax);
  if (problem === undefined) return;
  const shown =
    name.length > 40 ? `${JSON.stringify(name.slice(0, 40)).slice(0, -1)}…"` : JSON.stringify(name);
  throw new InvalidDataError(
    `field name ${shown} in ${where} ${problem}: a field name is 1 to ${ctx.fieldNameLengthMax} ` +
      'characters of any kind but control characters',
    `${where}[${JSON.stringify(name)}]`,
  );
}

/** NUL and UTF-16 surrogates: the characters that need a closer look (most strings hold none). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this looks for
const suspectCharacters = /[\u0000\uD800-\uDFFF]/;

/**
 * Why PostgreSQL could not store `value` as text/jsonb — NUL (22P05) or a lone surrogate (not Unicode; it
 * would also reach Avro's UTF-8 as U+FFFD, silently changed) — or undefined when it can. The door refuses
 * such a string, so nothing acknowledged is ever refused by a projection.
 */
export function unstorableCharacter(value: string): string | undefined {
  if (!suspectCharacters.test(value)) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) return `holds the NUL character (U+0000) at offset ${i}, which PostgreSQL cannot store`;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      return `holds a lone UTF-16 surrogate (U+${c.toString(16).toUpperCase()}) at offset ${i}: not Unicode text`;
    }
  }
  return undefined;
}

function checkString(value: string, where: string, ctx: Context): void {
  const unstorable = unstorableCharacter(value);
  if (unstorable !== undefined) throw new InvalidDataError(`${where} ${unstorable}`, where);
  if (value.length <= ctx.stringLengthMax) return; // code points ≤ UTF-16 units: no need to count
  let codePoints = 0;
  for (const _ of value) codePoints++;
  if (codePoints > ctx.stringLengthMax) {
    throw new InvalidDataError(
      `${where} is a string of ${codePoints} characters, more than the limit of ${ctx.stringLengthMax}`,
      where,
    );
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'undefined':
      return 'undefined (missing)';
    case 'object':
      return `an object of class ${(value as object).constructor?.name ?? 'unknown'}`;
    default:
      return `a ${typeof value}`;
  }
}

/**
 * Whether `data` is already covered by `schema` — inferring and merging it would change nothing — and
 * passes the write limits, decided without allocating: the write path's fast path for the common case of
 * a speaker sending the shape it sent before. Conservative: `false` only means "take the full path"
 * (inferSchema + merge), which gives the exact answer and the error message. The field names need no
 * check here (every name in a registered schema passed checkFieldName); the field count needs none when
 * the schema itself is within the limit (a covered object has a subset of its fields).
 */
export function fitsSchema(data: unknown, schema: AvroRecordSchema, limits: InferLimits): boolean {
  const ctx: Context = {
    fieldsMax: limits.fieldsMax,
    stringLengthMax: limits.stringLengthMax,
    fieldNameLengthMax: limits.fieldNameLengthMax ?? fieldNameLengthMaxDefault,
    depthMax: limits.depthMax ?? depthMaxDefault,
  };
  return isPlainObject(data) && countFields(schema) <= ctx.fieldsMax && fitsRecord(data, schema, 1, ctx);
}

function fitsRecord(
  obj: Record<string, unknown>,
  schema: AvroRecordSchema,
  depth: number,
  ctx: Context,
): boolean {
  if (depth > ctx.depthMax) return false;
  let present = 0;
  for (const name in obj) {
    if (!Object.hasOwn(obj, name)) continue;
    present++;
    const value = obj[name];
    if (value === undefined) continue; // absent, as inference has it
    const field = fieldNamed(schema, name);
    if (field === undefined) return false; // even a null adds the field
    if (value === null) continue; // a null merges into any type of a known field unchanged
    if (field.type === 'null' || !fitsValue(value, field.type[1], depth, ctx)) return false;
  }
  return present <= ctx.fieldsMax;
}

function fieldNamed(schema: AvroRecordSchema, name: string): AvroField | undefined {
  for (const field of schema.fields) if (field.name === name) return field;
  return undefined;
}

/** A non-null value of a field whose known type is `type`; `depth` is that of the containing object. */
function fitsValue(value: unknown, type: AvroValueType, depth: number, ctx: Context): boolean {
  switch (typeof value) {
    case 'number':
      return type === 'double' && Number.isFinite(value);
    case 'string':
      return (
        type === 'string' && value.length <= ctx.stringLengthMax && unstorableCharacter(value) === undefined
      );
    case 'boolean':
      return type === 'boolean';
    case 'object': {
      if (typeof type === 'string') return false;
      if (Array.isArray(value)) return type.type === 'array' && fitsArray(value, type, depth + 1, ctx);
      return (
        type.type === 'record' &&
        isPlainObject(value) &&
        fitsRecord(value as Record<string, unknown>, type, depth + 1, ctx)
      );
    }
    default:
      return false;
  }
}

/**
 * An array merges unchanged when its items fit the known items type: nulls (and emptiness, which infers
 * as null items) only where the items are nullable.
 */
function fitsArray(arr: readonly unknown[], type: AvroArraySchema, depth: number, ctx: Context): boolean {
  if (depth > ctx.depthMax) return false;
  const items = type.items;
  const nullable = items === 'null' || Array.isArray(items);
  if (arr.length === 0) return nullable;
  const core =
    items === 'null'
      ? undefined
      : Array.isArray(items)
        ? (items as readonly ['null', AvroValueType])[1]
        : (items as AvroValueType);
  for (const element of arr) {
    if (element === null || element === undefined) {
      if (!nullable) return false;
    } else if (core === undefined || !fitsValue(element, core, depth, ctx)) {
      return false;
    }
  }
  return true;
}

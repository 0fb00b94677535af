// SPDX-License-Identifier: MIT
// The payload codec: Avro types of payload schemas, their fingerprints, JSON ⇄ Avro bytes, and writer →
// reader resolution. Decoded payloads are plain JSON objects in which null means absent.
import avro from 'avsc';
import { checkAvroBounds } from './avro-bounds.js';
import { InvalidDataError, PayloadDecodeError } from './errors.js';
import { avroNameOf, fieldNameOfAvro, needsAvroEncoding } from './field-names.js';
import type { AvroNullableType, AvroRecordSchema, AvroValueType, RegisteredSchema } from './types.js';

type Resolver = ReturnType<avro.Type['createResolver']>;

/** What encoding needs of a schema (a RegisteredSchema has it). */
export type EncodeSchema = Pick<RegisteredSchema, 'type'>;

/** What decoding needs of a schema (a RegisteredSchema has it); schemaId only names it in errors. */
export type DecodeSchema = Pick<RegisteredSchema, 'type' | 'fingerprint'> & { readonly schemaId?: number };

/** Types already built, by canonical JSON of their schema. Bounded: payload schemas are few. */
const typeCacheMax = 4096;
const typeCache = new Map<string, avro.Type>();
const fingerprints = new WeakMap<avro.Type, string>();
/** Types whose schema spells some field name differently in Avro (see field-names.ts). */
const encodedNames = new WeakSet<avro.Type>();
/** reader type → writer type → resolver. avsc ties a resolver to the reader Type instance. */
const resolvers = new WeakMap<avro.Type, WeakMap<avro.Type, Resolver>>();

/**
 * The avsc Type of a payload schema, built once per distinct schema (key order does not matter). The
 * schema names fields as speakers do; the Type spells them as Avro must (field-names.ts).
 */
export function avroType(schema: AvroRecordSchema): avro.Type {
  const key = stableJson(schema);
  let type = typeCache.get(key);
  if (type === undefined) {
    const wire = { encoded: false };
    const avroSchema = toAvroSchema(schema, wire);
    // Unions come back as plain values (`['null', T]` is null or a T); records need no methods. A fresh
    // options object each time: avsc stores its name registry in it.
    type = avro.Type.forSchema(avroSchema as unknown as avro.Schema, {
      wrapUnions: false,
      omitRecordMethods: true,
    });
    if (wire.encoded) encodedNames.add(type);
    if (typeCache.size >= typeCacheMax) {
      const oldest = typeCache.keys().next().value;
      if (oldest !== undefined) typeCache.delete(oldest);
    }
    typeCache.set(key, type);
  }
  return type;
}

/** sha256 (hex) of the schema's Avro Parsing Canonical Form. */
export function fingerprintOf(schema: AvroRecordSchema): string {
  return fingerprintOfType(avroType(schema));
}

/** sha256 (hex) of a type's Avro Parsing Canonical Form. */
export function fingerprintOfType(type: avro.Type): string {
  let fingerprint = fingerprints.get(type);
  if (fingerprint === undefined) {
    fingerprint = type.fingerprint('sha256').toString('hex');
    fingerprints.set(type, fingerprint);
  }
  return fingerprint;
}

/**
 * Encodes one JSON data object with `schema`. Data that the schema does not describe (a field it
 * lacks, a value of another type) throws InvalidDataError rather than being dropped silently.
 */
export function encodePayload(schema: EncodeSchema, data: Readonly<Record<string, unknown>>): Buffer {
  const wireData = encodedNames.has(schema.type) ? toAvroNames(data) : data;
  let problem: string | undefined;
  let where = 'data';
  const valid = schema.type.isValid(wireData, {
    noUndeclaredFields: true,
    errorHook: (path, value, type) => {
      if (problem !== undefined) return;
      where = formatPath(path);
      const undeclared = undeclaredField(value, type);
      if (undeclared !== undefined) {
        where = `${where}.${fieldNameOfAvro(undeclared)}`;
        problem = `${where} is not a field of the payload schema`;
      } else {
        problem = `${where} (${JSON.stringify(value) ?? String(value)}) does not match the payload schema`;
      }
    },
  });
  if (!valid) throw new InvalidDataError(problem ?? 'data does not match the payload schema', where);
  return schema.type.toBuffer(wireData);
}

/** The schema with every field name spelt as Avro allows; `wire.encoded` tells whether any changed. */
function toAvroSchema(schema: AvroRecordSchema, wire: { encoded: boolean }): AvroRecordSchema {
  const fields = schema.fields.map((field) => {
    const name = avroNameOf(field.name);
    if (name !== field.name) wire.encoded = true;
    const type = field.type === 'null' ? field.type : (['null', toAvroValue(field.type[1], wire)] as const);
    return { name, type, default: null };
  });
  return { type: 'record', name: schema.name, fields };
}

function toAvroValue(type: AvroValueType, wire: { encoded: boolean }): AvroValueType {
  if (typeof type === 'string') return type;
  if (type.type === 'record') return toAvroSchema(type, wire);
  const items = type.items;
  if (items === 'null') return type;
  if (Array.isArray(items)) {
    return { type: 'array', items: ['null', toAvroValue((items as AvroNullableType)[1], wire)] };
  }
  return { type: 'array', items: toAvroValue(items as AvroValueType, wire) };
}

/** A copy of JSON data with object keys spelt as in Avro (only taken when some name needs it). */
function toAvroNames(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toAvroNames);
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    out[needsAvroEncoding(name) ? avroNameOf(name) : name] = toAvroNames(field);
  }
  return out;
}

/**
 * Decodes payload bytes written with `writer`. With `reader`, resolves writer → reader (fields the
 * writer lacked are absent). Returns plain JSON: nested records are plain objects, null fields are
 * dropped (arrays keep their null elements). Undecodable bytes throw PayloadDecodeError.
 */
export function decodePayload(
  writer: DecodeSchema,
  bytes: Uint8Array,
  reader?: DecodeSchema,
): Record<string, unknown> {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    checkAvroBounds(writer.type, buf);
  } catch (err) {
    throw new PayloadDecodeError(`payload does not decode with ${nameOf(writer)}: ${messageOf(err)}`, err);
  }
  let value: unknown;
  if (reader === undefined || reader.fingerprint === writer.fingerprint) {
    try {
      value = writer.type.fromBuffer(buf);
    } catch (err) {
      throw new PayloadDecodeError(`payload does not decode with ${nameOf(writer)}: ${messageOf(err)}`, err);
    }
  } else {
    const resolver = resolverFor(writer, reader);
    try {
      value = reader.type.fromBuffer(buf, resolver);
    } catch (err) {
      throw new PayloadDecodeError(
        `payload does not decode with ${nameOf(writer)} read as ${nameOf(reader)}: ${messageOf(err)}`,
        err,
      );
    }
  }
  return toPlain(value) as Record<string, unknown>;
}

function resolverFor(writer: DecodeSchema, reader: DecodeSchema): Resolver {
  let byWriter = resolvers.get(reader.type);
  if (byWriter === undefined) {
    byWriter = new WeakMap();
    resolvers.set(reader.type, byWriter);
  }
  let resolver = byWriter.get(writer.type);
  if (resolver === undefined) {
    try {
      resolver = reader.type.createResolver(writer.type);
    } catch (err) {
      throw new PayloadDecodeError(
        `${nameOf(writer)} cannot be read as ${nameOf(reader)}: ${messageOf(err)}`,
        err,
      );
    }
    byWriter.set(writer.type, resolver);
  }
  return resolver;
}

/** avsc records (class instances) → plain objects without null fields and with speakers' names, recursively. */
function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(toPlain);
  // Keys, not entries: entries built a [name, value] array per field of every decoded event (ADR 0034).
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(record)) {
    const field = record[name];
    if (field !== null && field !== undefined) out[fieldNameOfAvro(name)] = toPlain(field);
  }
  return out;
}

function undeclaredField(value: unknown, type: avro.Type): string | undefined {
  if (type.typeName !== 'record' || typeof value !== 'object' || value === null) return undefined;
  const declared = new Set(
    (type as unknown as { fields: readonly { name: string }[] }).fields.map((f) => f.name),
  );
  return Object.keys(value).find((name) => !declared.has(name));
}

function formatPath(path: readonly string[]): string {
  return path.reduce(
    (at, part) => (/^\d+$/.test(part) ? `${at}[${part}]` : `${at}.${fieldNameOfAvro(part)}`),
    'data',
  );
}

function nameOf(schema: DecodeSchema): string {
  return schema.schemaId === undefined
    ? `schema ${schema.fingerprint.slice(0, 12)}`
    : `schema_id ${schema.schemaId}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** JSON with object keys sorted, so equal schemas give equal keys whatever their key order (jsonb). */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

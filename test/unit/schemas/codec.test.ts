// SPDX-License-Identifier: MIT
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  type AvroRecordSchema,
  avroType,
  type DecodeSchema,
  decodePayload,
  encodePayload,
  fingerprintOf,
  type InferLimits,
  InvalidDataError,
  inferSchema,
  mergeSchemas,
  PayloadDecodeError,
} from '../../../schemas/index.js';

const limits: InferLimits = { fieldsMax: 100, stringLengthMax: 1000 };

function codecSchema(schema: AvroRecordSchema, schemaId?: number): DecodeSchema {
  return { type: avroType(schema), fingerprint: fingerprintOf(schema), schemaId };
}

/** Infers, encodes and decodes `data` with its own schema. */
function roundTrip(data: Record<string, unknown>): Record<string, unknown> {
  const schema = codecSchema(inferSchema(data, limits));
  return decodePayload(schema, encodePayload(schema, data));
}

/** Registers each shape in turn (BACKWARD) and returns every version. */
function versions(...datas: Record<string, unknown>[]): DecodeSchema[] {
  const out: DecodeSchema[] = [];
  let schema: AvroRecordSchema | undefined;
  datas.forEach((data, i) => {
    schema = mergeSchemas('sensor', schema, inferSchema(data, limits), i, 'BACKWARD').schema;
    out.push(codecSchema(schema, i + 1));
  });
  return out;
}

describe('encodePayload / decodePayload round trips', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['empty object', {}, {}],
    ['integer', { a: 5 }, { a: 5 }],
    ['fraction, negative, huge, tiny', { a: -5.25, b: 1e300, c: 5e-324 }, { a: -5.25, b: 1e300, c: 5e-324 }],
    ['largest safe integer', { a: Number.MAX_SAFE_INTEGER }, { a: Number.MAX_SAFE_INTEGER }],
    ['zero', { a: 0 }, { a: 0 }],
    ['strings', { s: 'hello', e: '', u: 'ünïcødé 😀 日本' }, { s: 'hello', e: '', u: 'ünïcødé 😀 日本' }],
    ['booleans', { t: true, f: false }, { t: true, f: false }],
    ['null fields are dropped (null means absent)', { a: null, b: 1 }, { b: 1 }],
    ['only nulls', { a: null }, {}],
    [
      'nested objects',
      { e: { t: 90, oil: { p: 2.5, ok: true } } },
      { e: { t: 90, oil: { p: 2.5, ok: true } } },
    ],
    ['null inside nested objects', { e: { t: null, u: 'x' } }, { e: { u: 'x' } }],
    ['empty nested object', { e: {} }, { e: {} }],
    ['arrays of numbers', { a: [1, 2.5, -3] }, { a: [1, 2.5, -3] }],
    ['arrays keep null elements', { a: [1, null, 3] }, { a: [1, null, 3] }],
    ['empty array', { a: [] }, { a: [] }],
    ['array of nulls', { a: [null, null] }, { a: [null, null] }],
    [
      'arrays of strings and booleans',
      { s: ['a', 'b'], b: [true, false] },
      { s: ['a', 'b'], b: [true, false] },
    ],
    ['arrays of arrays', { m: [[1, 2], [], [null, 3]] }, { m: [[1, 2], [], [null, 3]] }],
    [
      'arrays of objects',
      { r: [{ v: 1, u: 'x' }, { v: 2 }, null, { u: null }] },
      { r: [{ v: 1, u: 'x' }, { v: 2 }, null, {}] },
    ],
    [
      'field names that are keywords or Avro type names',
      { null: 1, string: 'x', record: true, class: 2, constructor: 3, toString: 'y', type: { int: 4 } },
      { null: 1, string: 'x', record: true, class: 2, constructor: 3, toString: 'y', type: { int: 4 } },
    ],
    [
      'colliding-looking nested names',
      { engine_oil: { x: 1 }, engine: { oil: { x: 2 } } },
      { engine_oil: { x: 1 }, engine: { oil: { x: 2 } } },
    ],
  ])('%s', (_name, data, expected) => {
    expect(roundTrip(data)).toEqual(expected);
  });

  it('returns plain objects, not avsc record instances', () => {
    const decoded = roundTrip({ e: { t: 1 }, r: [{ v: 1 }] });
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(decoded['e'])).toBe(Object.prototype);
    expect(Object.getPrototypeOf((decoded['r'] as unknown[])[0])).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(decoded))).toEqual(decoded);
  });

  it('encodes a subset of the schema (absent fields are null)', () => {
    const [v1] = versions({ a: 1, b: 'x', e: { t: 1 } });
    expect(decodePayload(v1!, encodePayload(v1!, { b: 'y' }))).toEqual({ b: 'y' });
    expect(decodePayload(v1!, encodePayload(v1!, { e: {} }))).toEqual({ e: {} });
  });
});

describe('schema evolution: old payloads read with a newer reader schema', () => {
  it.each<[string, Record<string, unknown>[], Record<string, unknown>, Record<string, unknown>]>([
    ['a field added', [{ temp: 1 }, { temp: 2, hum: 40 }], { temp: 21 }, { temp: 21 }],
    ['null → number', [{ temp: null, x: 1 }, { temp: 20 }], { temp: null, x: 5 }, { x: 5 }],
    ['a nested field added', [{ e: { t: 1 } }, { e: { oil: 2 } }], { e: { t: 90 } }, { e: { t: 90 } }],
    ['a nested object added', [{ a: 1 }, { e: { t: 1 } }], { a: 2 }, { a: 2 }],
    ['array items become nullable', [{ l: [1] }, { l: [null] }], { l: [1, 2] }, { l: [1, 2] }],
    ['empty array items become known', [{ l: [] }, { l: ['x'] }], { l: [] }, { l: [] }],
    [
      'a field added to objects in an array',
      [{ r: [{ v: 1 }] }, { r: [{ w: 'x' }] }],
      { r: [{ v: 3 }] },
      { r: [{ v: 3 }] },
    ],
    ['three versions', [{ a: 1 }, { b: 'x' }, { c: { d: [true] } }], { a: 7 }, { a: 7 }],
  ])('%s', (_name, shapes, oldData, expected) => {
    const all = versions(...shapes);
    const oldest = all[0]!;
    const newest = all.at(-1)!;
    expect(newest.fingerprint).not.toBe(oldest.fingerprint);
    const bytes = encodePayload(oldest, oldData);
    expect(decodePayload(oldest, bytes, newest)).toEqual(expected);
    // the resolver is cached: decoding again gives the same
    expect(decodePayload(oldest, bytes, newest)).toEqual(expected);
    // and the writer alone decodes it too
    expect(decodePayload(oldest, bytes)).toEqual(expected);
  });

  it('decodes a payload with a reader of the same fingerprint without resolution', () => {
    const schema = inferSchema({ a: 1 }, limits);
    const writer = codecSchema(schema, 1);
    // the same schema with its keys reordered, as jsonb would return it
    const reordered = JSON.parse(
      JSON.stringify(schema, (_k, v) =>
        v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
      ),
    );
    const reader = codecSchema(reordered, 1);
    expect(reader.fingerprint).toBe(writer.fingerprint);
    expect(decodePayload(writer, encodePayload(writer, { a: 2 }), reader)).toEqual({ a: 2 });
  });

  it('refuses a reader that cannot read the writer (a type replaced under NONE)', () => {
    const v1 = codecSchema(inferSchema({ t: 1 }, limits), 1);
    const v2 = codecSchema(
      mergeSchemas('sensor', inferSchema({ t: 1 }, limits), inferSchema({ t: 'x' }, limits), 1, 'NONE')
        .schema,
      2,
    );
    const bytes = encodePayload(v1, { t: 5 });
    expect(() => decodePayload(v1, bytes, v2)).toThrow(PayloadDecodeError);
    expect(() => decodePayload(v1, bytes, v2)).toThrow(/schema_id 1 cannot be read as schema_id 2/);
    expect(decodePayload(v1, bytes)).toEqual({ t: 5 });
  });
});

describe('fingerprints and types', () => {
  it('is the sha256 of the Parsing Canonical Form, whatever the key order', () => {
    const schema = inferSchema({ b: 1, a: { c: ['x'] } }, limits);
    const fingerprint = fingerprintOf(schema);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const plain = avro.Type.forSchema(schema as unknown as avro.Schema);
    expect(fingerprint).toBe(plain.fingerprint('sha256').toString('hex'));
    const reordered = JSON.parse(
      JSON.stringify(schema, (_k, v) =>
        v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
      ),
    );
    expect(fingerprintOf(reordered)).toBe(fingerprint);
    expect(avroType(reordered)).toBe(avroType(schema));
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['another field', { a: 1 }, { b: 1 }],
    ['another type', { a: 1 }, { a: 'x' }],
    ['null vs known', { a: null }, { a: 1 }],
    ['nullable items', { a: [1] }, { a: [1, null] }],
    ['nesting', { a: { b: 1 } }, { a: { c: 1 } }],
  ])('differs for %s', (_name, x, y) => {
    expect(fingerprintOf(inferSchema(x, limits))).not.toBe(fingerprintOf(inferSchema(y, limits)));
  });

  it('is stable for the same shape with other values', () => {
    expect(fingerprintOf(inferSchema({ a: 1, b: 'x' }, limits))).toBe(
      fingerprintOf(inferSchema({ b: 'zz', a: 2.5 }, limits)),
    );
  });
});

describe('encode and decode rejections', () => {
  const schema = codecSchema(inferSchema({ a: 1, e: { t: 1 }, l: [1] }, limits), 9);

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['an undeclared field', { a: 1, zz: 2 }, 'data.zz', /^data\.zz is not a field of the payload schema$/],
    ['an undeclared nested field', { e: { t: 1, q: 2 } }, 'data.e.q', /data\.e\.q is not a field/],
    ['a value of another type', { a: 'x' }, 'data.a', /^data\.a \("x"\) does not match the payload schema$/],
    ['a nested value of another type', { e: { t: true } }, 'data.e.t', /data\.e\.t \(true\)/],
    ['an array element of another type', { l: [1, 'x'] }, 'data.l[1]', /data\.l\[1\] \("x"\)/],
  ])('encode rejects %s', (_name, data, path, message) => {
    let caught: unknown;
    try {
      encodePayload(schema, data);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidDataError);
    expect((caught as InvalidDataError).path).toBe(path);
    expect((caught as InvalidDataError).message).toMatch(message);
  });

  it.each<[string, Buffer]>([
    ['truncated bytes', encodePayload(schema, { a: 1, e: { t: 2 } }).subarray(0, 3)],
    ['trailing bytes', Buffer.concat([encodePayload(schema, { a: 1 }), Buffer.from([0, 0, 0])])],
    ['an invalid union branch', Buffer.from([0x08])],
  ])('decode rejects %s', (_name, bytes) => {
    expect(() => decodePayload(schema, bytes)).toThrow(PayloadDecodeError);
    expect(() => decodePayload(schema, bytes)).toThrow(/^payload does not decode with schema_id 9: /);
  });

  it('decodes from a Uint8Array view as well as a Buffer', () => {
    const bytes = encodePayload(schema, { a: 3 });
    const copy = new Uint8Array(bytes.length + 4);
    copy.set(bytes, 2);
    expect(decodePayload(schema, copy.subarray(2, 2 + bytes.length))).toEqual({ a: 3 });
  });
});

// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  type AvroRecordSchema,
  avroType,
  countFields,
  fingerprintOf,
  type InferLimits,
  inferSchema,
  mergeMany,
  mergeSchemas,
  SchemaConflictError,
} from '../../../schemas/index.js';

const limits: InferLimits = { fieldsMax: 100, stringLengthMax: 100 };
const infer = (data: Record<string, unknown>): AvroRecordSchema => inferSchema(data, limits);
const opt = (type: unknown) => ['null', type];

/** The schema after registering each data in turn (BACKWARD). */
function evolve(...datas: Record<string, unknown>[]): AvroRecordSchema {
  let schema: AvroRecordSchema | undefined;
  datas.forEach((data, i) => {
    schema = mergeSchemas('sensor', schema, infer(data), i, 'BACKWARD').schema;
  });
  return schema!;
}

function typeOf(schema: AvroRecordSchema, name: string): unknown {
  return schema.fields.find((f) => f.name === name)?.type;
}

describe('mergeSchemas: compatible evolution', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, boolean, Record<string, unknown>]>([
    ['same shape', { temp: 1 }, { temp: 2 }, false, { temp: opt('double') }],
    ['integer then fraction', { temp: 5 }, { temp: 5.5 }, false, { temp: opt('double') }],
    ['a subset', { temp: 1, hum: 2 }, { temp: 3 }, false, { hum: opt('double'), temp: opt('double') }],
    ['an empty write', { temp: 1 }, {}, false, { temp: opt('double') }],
    ['a new field', { temp: 1 }, { hum: 40 }, true, { hum: opt('double'), temp: opt('double') }],
    ['null then a number', { temp: null }, { temp: 20 }, true, { temp: opt('double') }],
    ['a number then null', { temp: 20 }, { temp: null }, false, { temp: opt('double') }],
    ['null then null', { temp: null }, { temp: null }, false, { temp: 'null' }],
    [
      'null then an object',
      { e: null },
      { e: { t: 1 } },
      true,
      {
        e: opt({ type: 'record', name: 'p_1e', fields: [{ name: 't', type: opt('double'), default: null }] }),
      },
    ],
    [
      'a nested field added',
      { engine: { temp: 1 } },
      { engine: { oil: 3 } },
      true,
      {
        engine: opt({
          type: 'record',
          name: 'p_6engine',
          fields: [
            { name: 'oil', type: opt('double'), default: null },
            { name: 'temp', type: opt('double'), default: null },
          ],
        }),
      },
    ],
    [
      'empty array then numbers',
      { a: [] },
      { a: [1] },
      true,
      { a: opt({ type: 'array', items: ['null', 'double'] }) },
    ],
    [
      'numbers then empty array',
      { a: [1] },
      { a: [] },
      true,
      { a: opt({ type: 'array', items: ['null', 'double'] }) },
    ],
    [
      'numbers then numbers with null',
      { a: [1] },
      { a: [2, null] },
      true,
      { a: opt({ type: 'array', items: ['null', 'double'] }) },
    ],
    [
      'nullable items then numbers',
      { a: [null, 1] },
      { a: [2] },
      false,
      { a: opt({ type: 'array', items: ['null', 'double'] }) },
    ],
    [
      'a field added to objects in an array',
      { r: [{ v: 1 }] },
      { r: [{ u: 'x' }] },
      true,
      {
        r: opt({
          type: 'array',
          items: {
            type: 'record',
            name: 'p_1r',
            fields: [
              { name: 'u', type: opt('string'), default: null },
              { name: 'v', type: opt('double'), default: null },
            ],
          },
        }),
      },
    ],
  ])('%s', (_name, first, second, changed, fields) => {
    const existing = infer(first);
    const result = mergeSchemas('sensor', existing, infer(second), 1, 'BACKWARD');
    expect(result.changed).toBe(changed);
    if (!changed) expect(result.schema).toBe(existing);
    expect(Object.fromEntries(result.schema.fields.map((f) => [f.name, f.type]))).toEqual(fields);
    expect(() => avroType(result.schema)).not.toThrow();
  });

  it('registers the first schema of a subject as changed', () => {
    const incoming = infer({ a: 1 });
    expect(mergeSchemas('sensor', undefined, incoming, 0, 'BACKWARD')).toEqual({
      schema: incoming,
      changed: true,
    });
  });

  it('keeps fields sorted by name at every level', () => {
    const schema = evolve({ m: 1, e: { z: 1 } }, { a: 1, e: { b: 2 } }, { z: true });
    expect(schema.fields.map((f) => f.name)).toEqual(['a', 'e', 'm', 'z']);
    const e = typeOf(schema, 'e') as [string, AvroRecordSchema];
    expect(e[1].fields.map((f) => f.name)).toEqual(['b', 'z']);
  });

  it('returns the existing schema itself once a shape is covered (the hot path)', () => {
    const v2 = evolve({ a: 1 }, { b: 'x', c: [1, null], d: { e: true } });
    for (const data of [{ a: 2 }, { b: 'y' }, { c: [] }, { c: [null] }, { d: {} }, { d: { e: null } }, {}]) {
      const result = mergeSchemas('sensor', v2, infer(data), 2, 'BACKWARD');
      expect(result.changed).toBe(false);
      expect(result.schema).toBe(v2);
    }
  });
});

describe('mergeSchemas: type changes', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, string, string, string, string]>([
    [
      'double → string',
      { temp: 21.5 },
      { temp: 'hot' },
      'temp',
      'double',
      'string',
      "field 'temp' of kind 'sensor' is double in version 3, cannot become string",
    ],
    [
      'string → boolean',
      { s: 'x' },
      { s: true },
      's',
      'string',
      'boolean',
      "field 's' of kind 'sensor' is string in version 3, cannot become boolean",
    ],
    [
      'object → number',
      { engine: { t: 1 } },
      { engine: 5 },
      'engine',
      'object',
      'double',
      "field 'engine' of kind 'sensor' is object in version 3, cannot become double",
    ],
    [
      'number → object',
      { engine: 5 },
      { engine: { t: 1 } },
      'engine',
      'double',
      'object',
      "field 'engine' of kind 'sensor' is double in version 3, cannot become object",
    ],
    [
      'nested double → boolean',
      { engine: { temp: 1 } },
      { engine: { temp: true } },
      'engine.temp',
      'double',
      'boolean',
      "field 'engine.temp' of kind 'sensor' is double in version 3, cannot become boolean",
    ],
    [
      'array item change',
      { tags: [1] },
      { tags: ['a'] },
      'tags',
      'array of double',
      'array of string',
      "field 'tags' of kind 'sensor' is array of double in version 3, cannot become array of string",
    ],
    [
      'nullable array item change',
      { tags: [1, null] },
      { tags: ['a'] },
      'tags',
      'array of double',
      'array of string',
      "field 'tags' of kind 'sensor' is array of double in version 3, cannot become array of string",
    ],
    [
      'nested array item change',
      { m: [[1]] },
      { m: [['a']] },
      'm',
      'array of array of double',
      'array of array of string',
      "field 'm' of kind 'sensor' is array of array of double in version 3, cannot become array of array of string",
    ],
    [
      'array → string',
      { a: [] },
      { a: 'x' },
      'a',
      'array',
      'string',
      "field 'a' of kind 'sensor' is array in version 3, cannot become string",
    ],
    [
      'number → array',
      { a: 1 },
      { a: [1] },
      'a',
      'double',
      'array of double',
      "field 'a' of kind 'sensor' is double in version 3, cannot become array of double",
    ],
    [
      'array of objects → array of numbers',
      { r: [{ v: 1 }] },
      { r: [1] },
      'r',
      'array of object',
      'array of double',
      "field 'r' of kind 'sensor' is array of object in version 3, cannot become array of double",
    ],
    [
      'a field inside objects of an array',
      { r: [{ v: 1 }] },
      { r: [{ v: 'x' }] },
      'r[].v',
      'double',
      'string',
      "field 'r[].v' of kind 'sensor' is double in version 3, cannot become string",
    ],
  ])('rejects %s', (_name, first, second, field, existingType, incomingType, message) => {
    let caught: unknown;
    try {
      mergeSchemas('sensor', infer(first), infer(second), 3, 'BACKWARD');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SchemaConflictError);
    const err = caught as SchemaConflictError;
    expect(err.message).toBe(`${message} under compatibility BACKWARD`);
    expect(err.mode).toBe('BACKWARD');
    expect({ code: err.code, status: err.status, isRetryable: err.isRetryable }).toEqual({
      code: 'SCHEMA_CONFLICT',
      status: 409,
      isRetryable: false,
    });
    expect({ subject: err.subject, field: err.field, version: err.version }).toEqual({
      subject: 'sensor',
      field,
      version: 3,
    });
    expect({ existingType: err.existingType, incomingType: err.incomingType }).toEqual({
      existingType,
      incomingType,
    });
  });

  it('names the kind of a normalized subject', () => {
    expect(() => mergeSchemas('sensor#norm', infer({ t: 1 }), infer({ t: 'x' }), 7, 'BACKWARD')).toThrow(
      "field 't' of kind 'sensor#norm' is double in version 7, cannot become string",
    );
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]>([
    [
      'double → string',
      { temp: 1, keep: true },
      { temp: 'hot' },
      { keep: opt('boolean'), temp: opt('string') },
    ],
    ['object → number', { e: { t: 1 } }, { e: 2 }, { e: opt('double') }],
    ['array item change', { a: [1] }, { a: ['x'] }, { a: opt({ type: 'array', items: 'string' }) }],
    [
      'a nested field only',
      { e: { t: 1, u: 2 } },
      { e: { t: 'x' } },
      {
        e: opt({
          type: 'record',
          name: 'p_1e',
          fields: [
            { name: 't', type: opt('string'), default: null },
            { name: 'u', type: opt('double'), default: null },
          ],
        }),
      },
    ],
  ])('with compatibility NONE the incoming type replaces the old one: %s', (_name, first, second, fields) => {
    const result = mergeSchemas('sensor', infer(first), infer(second), 1, 'NONE');
    expect(result.changed).toBe(true);
    expect(Object.fromEntries(result.schema.fields.map((f) => [f.name, f.type]))).toEqual(fields);
    expect(() => avroType(result.schema)).not.toThrow();
  });
});

describe('merging is order-independent', () => {
  const shapes: Record<string, unknown>[] = [
    { a: 1 },
    { b: 'x', a: null },
    { e: { t: 1 } },
    { e: { u: true, t: null } },
    { e: null, l: [] },
    { l: [1, null] },
    { l: [2] },
    { r: [{ v: 1 }, null] },
    { r: [{ w: 'x' }] },
    { r: [] },
    { m: [[1], []] },
    { m: [[null]] },
    {},
  ];

  it.each(
    shapes.flatMap((a, i) =>
      shapes.slice(i + 1).map((b) => [JSON.stringify(a), JSON.stringify(b), a, b] as const),
    ),
  )('merge(%s, %s) = merge(b, a)', (_a, _b, a, b) => {
    const ab = mergeSchemas('k', infer(a), infer(b), 1, 'BACKWARD').schema;
    const ba = mergeSchemas('k', infer(b), infer(a), 1, 'BACKWARD').schema;
    expect(fingerprintOf(ab)).toBe(fingerprintOf(ba));
    expect(ab).toEqual(ba);
  });

  it('mergeMany gives the same schema for every order of a batch', () => {
    const schemas = shapes.map(infer);
    const forward = mergeMany('k', schemas);
    const backward = mergeMany('k', [...schemas].reverse());
    const shuffled = mergeMany(
      'k',
      [...schemas].sort((x, y) => fingerprintOf(x).localeCompare(fingerprintOf(y))),
    );
    expect(fingerprintOf(backward)).toBe(fingerprintOf(forward));
    expect(fingerprintOf(shuffled)).toBe(fingerprintOf(forward));
    // and registering one by one ends where the batch does
    expect(fingerprintOf(evolve(...shapes))).toBe(fingerprintOf(forward));
    expect(countFields(forward)).toBe(10); // a b e e.t e.u l m r r[].v r[].w
  });
});

describe('mergeMany', () => {
  it('merges the items of one write', () => {
    const merged = mergeMany('sensor', [infer({ a: 1 }), infer({ b: 'x' }), infer({ a: null })]);
    expect(merged.fields.map((f) => [f.name, f.type])).toEqual([
      ['a', opt('double')],
      ['b', opt('string')],
    ]);
  });

  it('gives an empty record for no items', () => {
    expect(mergeMany('sensor', [])).toEqual({ type: 'record', name: 'Payload', fields: [] });
  });

  it('rejects items of one write that disagree (one schema must encode them all, whatever the mode)', () => {
    let caught: unknown;
    try {
      mergeMany('sensor', [infer({ t: 1 }), infer({ u: 1 }), infer({ t: 'x' })]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SchemaConflictError);
    const err = caught as SchemaConflictError;
    expect(err.version).toBeNull();
    expect(err.message).toBe(
      "field 't' of kind 'sensor' is double in another event of this write, cannot become string",
    );
  });
});

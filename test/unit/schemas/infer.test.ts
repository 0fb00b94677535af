// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  type AvroRecordSchema,
  avroType,
  fingerprintOf,
  type InferLimits,
  InvalidDataError,
  inferSchema,
  recordNameOf,
} from '../../../schemas/index.js';

const limits: InferLimits = { fieldsMax: 50, stringLengthMax: 20 };

const opt = (type: unknown) => ['null', type];

function fieldsOf(schema: AvroRecordSchema): Record<string, unknown> {
  return Object.fromEntries(schema.fields.map((f) => [f.name, f.type]));
}

describe('inferSchema: JSON → Avro types', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['integer', { a: 5 }, { a: opt('double') }],
    ['fraction', { a: 5.5 }, { a: opt('double') }],
    ['negative zero', { a: -0 }, { a: opt('double') }],
    ['string', { a: 'x' }, { a: opt('string') }],
    ['empty string', { a: '' }, { a: opt('string') }],
    ['boolean', { a: false }, { a: opt('boolean') }],
    ['null (type unknown)', { a: null }, { a: 'null' }],
    ['undefined (absent)', { a: undefined, b: 1 }, { b: opt('double') }],
    ['array of numbers', { a: [1, 2.5] }, { a: opt({ type: 'array', items: 'double' }) }],
    ['array with nulls', { a: [1, null] }, { a: opt({ type: 'array', items: ['null', 'double'] }) }],
    ['empty array', { a: [] }, { a: opt({ type: 'array', items: 'null' }) }],
    ['array of nulls', { a: [null, null] }, { a: opt({ type: 'array', items: 'null' }) }],
    ['array of strings', { a: ['x', 'y'] }, { a: opt({ type: 'array', items: 'string' }) }],
    [
      'array of arrays',
      { a: [[1], [2, null], []] },
      { a: opt({ type: 'array', items: { type: 'array', items: ['null', 'double'] } }) },
    ],
    [
      'nested object',
      { engine: { temp: 90, on: true } },
      {
        engine: opt({
          type: 'record',
          name: 'p_6engine',
          fields: [
            { name: 'on', type: opt('boolean'), default: null },
            { name: 'temp', type: opt('double'), default: null },
          ],
        }),
      },
    ],
    ['empty object', { meta: {} }, { meta: opt({ type: 'record', name: 'p_4meta', fields: [] }) }],
    [
      'array of objects with different keys (merged)',
      { r: [{ v: 1 }, { u: 'x' }, { v: null }] },
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
    [
      'array of objects and nulls',
      { r: [null, { v: 1 }] },
      {
        r: opt({
          type: 'array',
          items: [
            'null',
            { type: 'record', name: 'p_1r', fields: [{ name: 'v', type: opt('double'), default: null }] },
          ],
        }),
      },
    ],
  ])('%s', (_name, data, expected) => {
    const schema = inferSchema(data, limits);
    expect(schema.type).toBe('record');
    expect(schema.name).toBe('Payload');
    expect(fieldsOf(schema)).toEqual(expected);
    for (const field of schema.fields) expect(field.default).toBeNull();
    expect(() => avroType(schema)).not.toThrow();
  });

  it('sorts fields by name, so key order never changes the schema or its fingerprint', () => {
    const a = inferSchema({ z: 1, a: 'x', m: { y: true, b: [1] } }, limits);
    const b = inferSchema({ m: { b: [2], y: false }, a: 'q', z: 2.5 }, limits);
    expect(a.fields.map((f) => f.name)).toEqual(['a', 'm', 'z']);
    expect(b).toEqual(a);
    expect(fingerprintOf(b)).toBe(fingerprintOf(a));
  });

  it('gives every nested record a unique valid name, even where underscores could collide', () => {
    const schema = inferSchema(
      { engine_oil: { x: 1 }, engine: { oil: { x: 1 }, oil_x: { y: 1 } }, string: { int: { x: 1 } } },
      limits,
    );
    const names: string[] = [];
    const walk = (type: unknown): void => {
      if (Array.isArray(type)) {
        for (const branch of type) walk(branch);
        return;
      }
      if (typeof type !== 'object' || type === null) return;
      const t = type as { type: string; name?: string; fields?: { type: unknown }[]; items?: unknown };
      if (t.type === 'record') {
        names.push(t.name!);
        for (const f of t.fields!) walk(f.type);
      } else if (t.type === 'array') walk(t.items);
    };
    walk(schema);
    expect(names.sort()).toEqual(
      [
        'Payload',
        'p_10engine_oil',
        'p_6engine',
        'p_6engine_3oil',
        'p_6engine_5oil_x',
        'p_6string',
        'p_6string_3int',
      ].sort(),
    );
    expect(() => avroType(schema)).not.toThrow();
  });

  it.each<[readonly string[], string]>([
    [[], 'Payload'],
    [['engine'], 'p_6engine'],
    [['engine', 'oil'], 'p_6engine_3oil'],
    [['engine_oil'], 'p_10engine_oil'],
    [['_a'], 'p_2_a'],
  ])('recordNameOf(%j) = %s', (path, name) => {
    expect(recordNameOf(path)).toBe(name);
  });

  it('accepts names up to fieldNameLengthMax and nesting up to depthMax', () => {
    const name = 'n'.repeat(128);
    expect(() => inferSchema({ [name]: 1 }, limits)).not.toThrow();
    // 128 code points of astral emoji are 256 UTF-16 units: still 128 characters
    expect(() => inferSchema({ ['😀'.repeat(128)]: 1 }, limits)).not.toThrow();
    for (const free of ['온도', 'Temperature (°C)', 'a.b', 'a b', 'humidity %', '9lives', '_x41', '🌡️']) {
      expect(() => inferSchema({ [free]: 1 }, limits), free).not.toThrow();
    }
    // depth 8: the data object + 7 nested levels
    expect(() => inferSchema({ a: { b: { c: { d: { e: { f: { g: 1 } } } } } } }, limits)).not.toThrow();
    expect(() => inferSchema({ a: [[[[[[[1]]]]]]] }, limits)).not.toThrow();
    // strings: code points, not UTF-16 units
    expect(() => inferSchema({ s: '😀'.repeat(20) }, limits)).not.toThrow();
  });

  it('counts fields at every depth; objects in an array count once', () => {
    const data = { r: Array.from({ length: 100 }, (_, i) => ({ v: i, w: i })) };
    expect(() => inferSchema(data, { ...limits, fieldsMax: 3 })).not.toThrow();
  });
});

describe('inferSchema: rejections', () => {
  const deep = { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } };
  const wide = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, i]));
  const nestedWide = {
    a: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, i])),
    b: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, i])),
  };
  it.each<[string, unknown, Partial<InferLimits>, string, RegExp]>([
    ['an array', [1, 2], {}, 'data', /^data must be a JSON object, not an array$/],
    ['a string', 'hello', {}, 'data', /^data must be a JSON object, not a string$/],
    ['null', null, {}, 'data', /^data must be a JSON object, not null$/],
    ['a number', 42, {}, 'data', /not a number$/],
    ['undefined', undefined, {}, 'data', /not undefined/],
    ['a Date', new Date(0), {}, 'data', /not an object of class Date/],
    ['a nested Map', { m: new Map() }, {}, 'data.m', /data\.m is an object of class Map/],
    ['a function', { f: () => 1 }, {}, 'data.f', /data\.f is a function; only JSON values/],
    ['a bigint', { b: 1n }, {}, 'data.b', /data\.b is a bigint/],
    ['NaN', { a: { x: Number.NaN } }, {}, 'data.a.x', /^data\.a\.x is NaN; numbers must be finite$/],
    ['Infinity in an array', { a: [1, Number.POSITIVE_INFINITY] }, {}, 'data.a[1]', /is Infinity/],
    [
      'NUL in a string',
      { s: 'a\u0000b' },
      {},
      'data.s',
      /^data\.s holds the NUL character \(U\+0000\) at offset 1/,
    ],
    ['NUL in an array', { t: ['ok', '\u0000'] }, {}, 'data.t[1]', /data\.t\[1\] holds the NUL/],
    [
      'a lone high surrogate',
      { s: 'x\uD800' },
      {},
      'data.s',
      /lone UTF-16 surrogate \(U\+D800\) at offset 1/,
    ],
    ['a lone low surrogate', { s: '\uDC00y' }, {}, 'data.s', /lone UTF-16 surrogate \(U\+DC00\) at offset 0/],
    ['a reversed pair', { s: '\uDE00\uD83D' }, {}, 'data.s', /lone UTF-16 surrogate \(U\+DE00\)/],
    ['an empty field name', { '': 1 }, {}, 'data[""]', /field name "" in data is empty/],
    ['a field name with a newline', { 'a\nb': 1 }, {}, 'data["a\\nb"]', /holds a control character/],
    ['a field name with NUL', { 'a\u0000': 1 }, {}, 'data["a\\u0000"]', /control character/],
    ['a field name with DEL', { 'a\u007f': 1 }, {}, 'data["a\u007f"]', /control character/],
    ['a lone surrogate', { 'a\ud800': 1 }, {}, 'data["a\\ud800"]', /lone UTF-16 surrogate/],
    ['a nested bad field name', { e: { 'x\ty': 1 } }, {}, 'data.e["x\\ty"]', /in data\.e holds/],
    [
      'a bad name in an array of objects',
      { r: [{ ok: 1 }, { 'no\r': 1 }] },
      {},
      'data.r[1]["no\\r"]',
      /in data\.r\[1\]/,
    ],
    [
      'a field name of 129 characters',
      { ['n'.repeat(129)]: 1 },
      {},
      `data["${'n'.repeat(129)}"]`,
      /has 129 characters; at most 128/,
    ],
    [
      'a field name of 129 Hangul syllables',
      { ['온'.repeat(129)]: 1 },
      {},
      `data["${'온'.repeat(129)}"]`,
      /has 129 characters; at most 128/,
    ],
    [
      'a name longer than a custom limit',
      { abcd: 1 },
      { fieldNameLengthMax: 3 },
      'data["abcd"]',
      /at most 3/,
    ],
    ['__proto__', JSON.parse('{"__proto__": 1}'), {}, 'data["__proto__"]', /reserved/],
    ['too many fields at the top', wide, {}, 'data', /^data has 51 fields, more than the limit of 50$/],
    [
      'too many fields counting nested ones',
      nestedWide,
      {},
      'data',
      /^data has 62 fields \(nested ones included\)/,
    ],
    ['too many fields in one nested object', { a: wide }, {}, 'data.a', /^data\.a has 51 fields/],
    [
      'a too long string',
      { s: 'x'.repeat(21) },
      {},
      'data.s',
      /^data\.s is a string of 21 characters, more than the limit of 20$/,
    ],
    [
      'a too long string in an array',
      { t: ['ok', 'y'.repeat(30)] },
      {},
      'data.t[1]',
      /data\.t\[1\] is a string of 30/,
    ],
    [
      'a too long string deep down',
      { a: { b: [{ c: 'z'.repeat(21) }] } },
      {},
      'data.a.b[0].c',
      /data\.a\.b\[0\]\.c/,
    ],
    ['too deep objects', deep, {}, 'data.a.b.c.d.e.f.g.h', /nested 9 levels deep.*limit of 8/],
    ['too deep arrays', { a: [[[[[[[[1]]]]]]]] }, {}, 'data.a[0][0][0][0][0][0][0]', /nested 9 levels/],
    [
      'deeper than a custom limit',
      { a: { b: 1 } },
      { depthMax: 1 },
      'data.a',
      /nested 2 levels deep.*limit of 1/,
    ],
    [
      'a mixed array',
      { tags: [1, 'a'] },
      {},
      'data.tags[1]',
      /^array data\.tags mixes types: data\.tags\[1\] is string where earlier elements have double/,
    ],
    [
      'an array of number and object',
      { a: [1, { x: 1 }] },
      {},
      'data.a[1]',
      /is object where earlier elements have double/,
    ],
    [
      'an array of array and string',
      { a: [[1], 'x'] },
      {},
      'data.a[1]',
      /is string where earlier elements have array of double/,
    ],
    [
      'an array of arrays with mixed items',
      { a: [[1], ['x']] },
      {},
      'data.a[1]',
      /is array of string where earlier elements have array of double/,
    ],
    [
      'objects in an array that disagree',
      { r: [{ v: 1 }, { v: 'x' }] },
      {},
      'data.r[1]',
      /data\.r\[1\]\.v is string where earlier elements have double/,
    ],
  ])('rejects %s', (_name, data, extra, path, message) => {
    let caught: unknown;
    try {
      inferSchema(data, { ...limits, ...extra });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidDataError);
    const err = caught as InvalidDataError;
    expect(err.code).toBe('INVALID_DATA');
    expect(err.status).toBe(400);
    expect(err.isRetryable).toBe(false);
    expect(err.path).toBe(path);
    expect(err.message).toMatch(message);
  });
});

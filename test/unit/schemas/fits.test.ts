// SPDX-License-Identifier: MIT
// fitsSchema is the write path's fast path: it may say "no" when unsure, but a "yes" must mean that
// inferring and merging the data would change nothing and that the data passes the write limits.
import { describe, expect, it } from 'vitest';
import {
  type AvroRecordSchema,
  fitsSchema,
  type InferLimits,
  inferSchema,
  mergeMany,
  mergeSchemas,
} from '../../../schemas/index.js';

const limits: InferLimits = { fieldsMax: 12, stringLengthMax: 10, depthMax: 4 };

function schemaOf(...datas: Record<string, unknown>[]): AvroRecordSchema {
  return mergeMany(
    'k',
    datas.map((d) => inferSchema(d, limits)),
  );
}

/** What the full path says: no error and an unchanged schema. */
function covered(schema: AvroRecordSchema, data: unknown): boolean {
  try {
    return !mergeSchemas('k', schema, inferSchema(data, limits), 1, 'BACKWARD').changed;
  } catch {
    return false;
  }
}

const base = schemaOf(
  { speed: 1, name: 'a', on: true, pos: { lat: 1, lon: 2 }, tags: ['x'], maybe: null },
  { readings: [{ v: 1 }, null], empty: [] },
);

const probes: [string, unknown, boolean][] = [
  ['the same shape', { speed: 2, name: 'b', on: false, pos: { lat: 3, lon: 4 }, tags: ['y', 'z'] }, true],
  ['a subset of the fields', { speed: 2 }, true],
  ['nulls anywhere', { speed: null, name: null, maybe: null, pos: { lat: null } }, true],
  ['an empty object', {}, true],
  ['nullable items with a null', { readings: [null, { v: 2 }] }, true],
  ['a new field', { speed: 1, colour: 'red' }, false],
  ['a type change', { speed: 'fast' }, false],
  ['a value where only null was seen', { maybe: 1 }, false],
  ['a too long string', { name: 'abcdefghijklmnop' }, false],
  ['a non-finite number', { speed: Number.POSITIVE_INFINITY }, false],
  ['an empty array where items are not nullable', { tags: [] }, false],
  ['a null item where items are not nullable', { tags: [null] }, false],
  ['items where only empty arrays were seen', { empty: [1] }, false],
  ['an object where a number was', { speed: { x: 1 } }, false],
  ['a new nested field', { pos: { lat: 1, alt: 3 } }, false],
  ['an array where an object was', { pos: [1] }, false],
  ['a reserved field name', JSON.parse('{"__proto__": 1}'), false],
  ['not an object', [1, 2], false],
];

describe('fitsSchema', () => {
  it.each(probes)('%s', (_name, data, fits) => {
    expect(fitsSchema(data, base, limits)).toBe(fits);
    if (fits) expect(covered(base, data)).toBe(true);
  });

  it('says no when the schema itself has more fields than a write may have', () => {
    const wide = schemaOf(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, i])));
    const wider = mergeMany('k', [wide, inferSchema({ g: 1 }, limits)]);
    expect(fitsSchema({ f1: 1 }, wide, limits)).toBe(true);
    expect(fitsSchema({ f1: 1 }, wider, limits)).toBe(false);
  });

  it('says no to a string PostgreSQL could not store (NUL, lone surrogates); yes to a surrogate pair', () => {
    const strings = schemaOf({ s: 'x', t: ['y'] });
    expect(fitsSchema({ s: 'a\u0000' }, strings, limits)).toBe(false);
    expect(fitsSchema({ t: ['\uD800'] }, strings, limits)).toBe(false);
    expect(fitsSchema({ s: '😀' }, strings, limits)).toBe(true);
  });

  it('says no past the depth limit', () => {
    const deep = schemaOf({ a: { b: { c: { d: 1 } } } });
    expect(fitsSchema({ a: { b: { c: { d: 2 } } } }, deep, limits)).toBe(true);
    expect(fitsSchema({ a: { b: { c: { d: 2 } } } }, deep, { ...limits, depthMax: 3 })).toBe(false);
  });

  it('never says yes where the full path would change or refuse (random shapes)', () => {
    const values = [
      ...[1, 'x', 'a long string value', true, null, [], [1], [null], ['s'], [1, null]],
      ...[{ a: 1 }, { b: 'y' }, { a: null }, [{ a: 1 }], [{ b: 2 }, null], [{}], { a: { b: [1] } }],
    ];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const random = (): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      for (const name of ['a', 'b', 'c']) if (next() % 2) out[name] = values[next() % values.length];
      return out;
    };
    for (let i = 0; i < 20_000; i++) {
      let schema: AvroRecordSchema;
      try {
        schema = schemaOf(random(), random());
      } catch {
        continue; // the two samples disagree with each other
      }
      const probe = random();
      if (fitsSchema(probe, schema, limits) && !covered(schema, probe)) {
        throw new Error(`fits but the full path disagrees: ${JSON.stringify({ schema, probe })}`);
      }
    }
  });
});

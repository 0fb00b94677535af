// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  avroNameOf,
  avroType,
  decodePayload,
  encodePayload,
  fieldAt,
  fieldNameOfAvro,
  fieldNameProblem,
  fingerprintOf,
  inferSchema,
  mergeMany,
} from '../../../schemas/index.js';
import { awkwardNames, refusedNames } from '../../support/awkward-names.js';

const limits = { fieldsMax: 100, stringLengthMax: 100 };

describe('field names', () => {
  it.each(awkwardNames)('accepts %j and spells it as an Avro name that reads back', (name) => {
    expect(fieldNameProblem(name)).toBeUndefined();
    const avro = avroNameOf(name);
    expect(avro).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    expect(fieldNameOfAvro(avro)).toBe(name);
  });

  it.each(refusedNames)('refuses %j', (name) => {
    expect(fieldNameProblem(name)).toBeDefined();
  });

  it('never spells two names alike', () => {
    const spelt = new Map<string, string>();
    for (const name of [...awkwardNames, 'a', 'b', 'ab', '_xab', 'x41']) {
      const avro = avroNameOf(name);
      expect(spelt.get(avro), `${name} and ${spelt.get(avro)} share ${avro}`).toBeUndefined();
      spelt.set(avro, name);
    }
  });

  it('keeps names that were Avro names already, so existing schemas keep their fingerprints', () => {
    for (const name of ['temp', 'engine_oil', '_a', 'A9']) expect(avroNameOf(name)).toBe(name);
  });

  it('round-trips a payload of awkward names, nested and in arrays, through Avro', () => {
    const data: Record<string, unknown> = Object.fromEntries(awkwardNames.map((n, i) => [n, i]));
    data.nested = { 'a.b': 'inner', a: { b: 'deep' }, 온도: [{ '습도 (%)': 1 }] };
    const schema = inferSchema(data, limits);
    const type = avroType(schema);
    const bytes = encodePayload({ type }, data);
    expect(decodePayload({ type, fingerprint: fingerprintOf(schema) }, bytes)).toEqual(data);
  });

  it('keeps `a.b` and nested {a:{b}} apart, `a b` and `a_b` apart', () => {
    const one = inferSchema({ 'a.b': 1, 'a b': 2 }, limits);
    const two = inferSchema({ a: { b: 1 }, a_b: 2 }, limits);
    const merged = mergeMany('k', [one, two]);
    expect(merged.fields.map((f) => f.name).sort()).toEqual(['a', 'a b', 'a.b', 'a_b']);
    const type = avroType(merged);
    const data = { 'a.b': 1, 'a b': 2, a: { b: 3 }, a_b: 4 };
    expect(
      decodePayload({ type, fingerprint: fingerprintOf(merged) }, encodePayload({ type }, data)),
    ).toEqual(data);
  });

  it('finds a field by its exact top-level name before a dotted path', () => {
    const data = { 'a.b': 1, a: { b: 2 }, c: { d: 3 } };
    expect(fieldAt(data, 'a.b')).toEqual({ present: true, value: 1 });
    expect(fieldAt(data, 'c.d')).toEqual({ present: true, value: 3 });
    expect(fieldAt(data, 'c.e')).toEqual({ present: false });
  });
});

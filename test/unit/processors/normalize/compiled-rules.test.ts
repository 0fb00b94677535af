// SPDX-License-Identifier: MIT
// The compiled transform gives exactly the bytes of the generic path — decode to plain JSON, applyRules,
// encode with the normalized schema — or declines (the stage then takes the generic path).
import { describe, expect, it } from 'vitest';
import {
  applyRules,
  CompiledRulesCache,
  compileRules,
  conversionOf,
  type MappingRule,
  unitConversions,
} from '../../../../processors/index.js';
import {
  type AvroRecordSchema,
  avroType,
  decodePayload,
  encodePayload,
  fingerprintOf,
  type InferLimits,
  inferSchema,
  mergeMany,
  type RegisteredSchema,
} from '../../../../schemas/index.js';

const limits: InferLimits = { fieldsMax: 100, stringLengthMax: 1000 };
let nextRuleId = 0;

function rule(r: Partial<MappingRule> & Pick<MappingRule, 'field' | 'action'>): MappingRule {
  nextRuleId++;
  return {
    ruleId: `r${String(nextRuleId).padStart(4, '0')}`,
    kind: null,
    targetId: null,
    toField: null,
    scale: null,
    offset: null,
    position: 0,
    createdAtMicros: 0,
    deletedAtMicros: null,
    ...r,
  };
}

function registered(schema: AvroRecordSchema, schemaId: number): RegisteredSchema {
  return {
    schemaId,
    subject: 'k',
    version: schemaId,
    schema,
    fingerprint: fingerprintOf(schema),
    type: avroType(schema),
    createdAt: '2026-11-25T00:00:00.000Z',
  };
}

/** The writer schema of `datas` (every one encodable with it), as the registry would merge it. */
function writerOf(datas: readonly Record<string, unknown>[]): RegisteredSchema {
  return registered(
    mergeMany(
      'k',
      datas.map((d) => inferSchema(d, limits)),
    ),
    1,
  );
}

/** The normalized schema covering the generic path's outputs (and `extra`), as the registry would merge it. */
function normOf(outputs: readonly Record<string, unknown>[], extra: readonly Record<string, unknown>[] = []) {
  return registered(
    mergeMany(
      'k#norm',
      [...outputs, ...extra].map((d) => inferSchema(d, limits)),
    ),
    2,
  );
}

const f2c = conversionOf('F', 'C')!;
const kpa2hpa = conversionOf('kPa', 'hPa')!;
const fraction = conversionOf('fraction', '%')!;
const c2f = unitConversions['c->f']!;
const map = (field: string, toField: string, c = { scale: 1, offset: 0 }) =>
  rule({ field, action: 'map', toField, ...c });

interface Case {
  readonly name: string;
  readonly datas: readonly Record<string, unknown>[];
  readonly rules: readonly MappingRule[];
  /** Data only the normalized schema knows (another writer's fields): written as null. */
  readonly normExtra?: readonly Record<string, unknown>[];
  /** The mode the transform compiles to (default: bytes). */
  readonly mode?: 'bytes' | 'records';
}

const same: Case[] = [
  {
    name: 'the bench: temp → temperature, a fuel fraction → fuel_level %',
    datas: [
      { speed: 41.5, temp: 21.37, fuel: 0.731, status: 'moving', lat: 52.1, lon: 13.2 },
      { speed: 0, temp: -4.5, fuel: 0, status: 'idle', lat: 52.1, lon: 13.2 },
    ],
    rules: [map('temp', 'temperature'), map('fuel', 'fuel_level', fraction)],
    // Written before the rules were: the speaker's names are versions of the normalized subject too.
    normExtra: [{ temp: 20, fuel: 0.5 }],
  },
  {
    name: 'Hangul and bracketed names, F → C with an offset, kPa → hPa',
    datas: [{ 온도: 98.6, 'Temp (°F)': 212, 'press kPa': 101.325, 비고: '메모' }],
    rules: [
      map('Temp (°F)', 'temperature', f2c),
      map('press kPa', 'pressure', kpa2hpa),
      map('온도', 'humidity'),
    ],
  },
  {
    name: 'missing optional fields and nulls: absent stays absent',
    datas: [
      { tempF: 50, a: 1 },
      { a: null, b: 'x' },
      { tempF: null, b: null, c: [1, null] },
    ],
    rules: [map('tempF', 'temperature', f2c), rule({ field: 'a', action: 'drop' })],
  },
  {
    name: 'convert rounds to 12 significant digits even at scale 1 offset 0; strings pass unconverted',
    datas: [{ x: 0.1234567890123456, s: 'text', n: 1e-7 }],
    rules: [
      rule({ field: 'x', action: 'convert', scale: 1, offset: 0 }),
      rule({ field: 's', action: 'convert', ...c2f }),
      rule({ field: 'n', action: 'convert', ...c2f }),
    ],
  },
  {
    name: 'rename onto an existing field overwrites it; rename of an absent field keeps the target',
    datas: [{ a: 1, b: 2 }, { b: 3 }],
    rules: [rule({ field: 'a', action: 'rename', toField: 'b' })],
    normExtra: [{ a: 0 }],
  },
  {
    name: 'rename then convert the renamed field, a chain of maps, drop of an unknown field',
    datas: [{ tmp_c: 100, p: 2, q: true }],
    rules: [
      rule({ field: 'tmp_c', action: 'rename', toField: 'temp_f' }),
      rule({ field: 'temp_f', action: 'convert', ...c2f }),
      map('p', 'p2', { scale: 100, offset: 0 }),
      map('p2', 'p3'),
      rule({ field: 'nowhere', action: 'drop' }),
    ],
  },
  {
    name: 'nested records and arrays move whole; the normalized schema knows more fields',
    datas: [
      { engine: { temp: 90, oil: { level: 0.5 } }, tags: ['a', 'b'], pts: [{ x: 1 }, null] },
      { engine: { temp: null }, tags: [], pts: [] },
    ],
    rules: [rule({ field: 'engine', action: 'rename', toField: 'motor' }), map('tags', 'labels')],
    normExtra: [{ motor: { rpm: 1, oil: { grade: 'x' } }, other: 'y', pts: [{ y: 2 }] }],
    mode: 'records',
  },
  {
    name: 'nested records and arrays move as bytes when the normalized schema has them alike',
    datas: [
      { engine: { temp: 90, oil: { level: 0.5 } }, tags: ['a', 'b'], pts: [{ x: 1 }, null], ok: true },
      { engine: { temp: null }, tags: [], pts: [], ok: false },
    ],
    rules: [rule({ field: 'engine', action: 'rename', toField: 'motor' }), map('ok', 'door_open')],
    normExtra: [{ zzz: 1, aaa: 'first' }],
  },
  {
    name: 'no rules: the writer re-encoded with a wider normalized schema',
    datas: [{ b: 1, d: 'x' }],
    rules: [],
    normExtra: [{ a: true, c: [1], e: { f: 1 } }],
  },
];

const declined: Case[] = [
  {
    name: 'a dotted path (a nested field)',
    datas: [{ engine: { temp: 90 } }],
    rules: [rule({ field: 'engine.temp', action: 'convert', ...c2f })],
  },
  {
    name: 'a name holding a dot as the target',
    datas: [{ t: 1 }],
    rules: [rule({ field: 't', action: 'rename', toField: 'a.b' })],
  },
  {
    name: 'a map onto a field the writer has: a clash, reported by the generic path',
    datas: [{ temp: 1, temperature: 2 }, { temp: 3 }],
    rules: [map('temp', 'temperature')],
  },
];

describe('compileRules', () => {
  it.each(same)('$name: the same bytes as applyRules + encode', ({ datas, rules, normExtra, mode }) => {
    const writer = writerOf(datas);
    const generic = (bytes: Buffer) => applyRules(decodePayload(writer, bytes), rules);
    const inputs = datas.map((d) => encodePayload(writer, d));
    const norm = normOf(inputs.map(generic), normExtra);
    const transform = compileRules(writer, rules, norm);
    expect(transform?.mode).toBe(mode ?? 'bytes');
    for (const bytes of inputs) {
      const expected = encodePayload(norm, generic(bytes));
      expect(transform!(bytes).toString('hex')).toBe(expected.toString('hex'));
    }
  });

  it.each(declined)('declines $name', ({ datas, rules }) => {
    const writer = writerOf(datas);
    const outputs = datas.map((d) => applyRules(decodePayload(writer, encodePayload(writer, d)), rules));
    expect(compileRules(writer, rules, normOf(outputs))).toBeUndefined();
  });

  it('declines when the normalized schema lacks a field the rules may produce, or types it otherwise', () => {
    const writer = writerOf([{ temp: 1, s: 'x' }]);
    const rules = [map('temp', 'temperature')];
    expect(compileRules(writer, rules, normOf([{ s: 'x' }]))).toBeUndefined();
    expect(compileRules(writer, rules, normOf([{ temperature: 'warm', s: 'x' }]))).toBeUndefined();
    expect(compileRules(writer, rules, normOf([{ temperature: 1, s: 'x' }]))).toBeDefined();
  });

  it('throws on a conversion to a non-finite number (the generic path refuses it) and on bad bytes', () => {
    const writer = writerOf([{ x: 1e307 }]);
    const rules = [rule({ field: 'x', action: 'convert', scale: 100, offset: 0 })];
    const transform = compileRules(writer, rules, normOf([{ x: 1 }]))!;
    expect(() => transform(encodePayload(writer, { x: 1e307 }))).toThrow(/Infinity/);
    expect(() => transform(Buffer.from([2, 0xff]))).toThrow();
    const nested = writerOf([{ e: { a: 1 } }]);
    const records = compileRules(nested, [], normOf([{ e: { a: 1, b: 2 } }]))!;
    expect(records.mode).toBe('records');
    expect(() => records(Buffer.from([2, 2, 0xff]))).toThrow();
  });

  it('refuses truncated bytes, trailing bytes and a bad union branch in the bytes mode', () => {
    const writer = writerOf([{ s: 'text', d: 1 }]);
    const transform = compileRules(writer, [map('d', 'dd')], normOf([{ s: 'x', dd: 1 }]))!;
    expect(transform.mode).toBe('bytes');
    const bytes = encodePayload(writer, { s: 'text', d: 1 });
    expect(() => transform(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    expect(() => transform(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/after its last field/);
    expect(() => transform(Buffer.from([4, 0]))).toThrow(/union branch/);
  });

  it('the cache compiles once per writer, normalized schema and rule ids, and keeps declines', () => {
    const cache = new CompiledRulesCache(2);
    const writer = writerOf([{ temp: 1 }]);
    const norm = normOf([{ temperature: 1 }]);
    const rules = [map('temp', 'temperature')];
    const first = cache.get(writer, rules, norm);
    expect(first).toBeDefined();
    expect(cache.get(writer, [...rules], norm)).toBe(first);
    expect(cache.get(writer, [], norm)).toBeUndefined();
    expect(cache.get(writer, rules, norm)).toBe(first);
  });
});

// SPDX-License-Identifier: MIT
// Compatibility modes with Confluent's meaning, the field changes between versions, and the dry run.
import { describe, expect, it } from 'vitest';
import {
  type AvroRecordSchema,
  avroType,
  type Compatibility,
  dryRun,
  fieldChanges,
  fingerprintOf,
  incompatibility,
  inferSchema,
  mergeSchemas,
  type RegisteredSchema,
} from '../../../schemas/index.js';

const limits = { fieldsMax: 64, stringLengthMax: 64 };
const infer = (data: Record<string, unknown>) => inferSchema(data, limits);

function version(n: number, schema: AvroRecordSchema): RegisteredSchema {
  return {
    schemaId: n,
    subject: 'vehicle',
    version: n,
    schema,
    fingerprint: fingerprintOf(schema),
    type: avroType(schema),
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}

/** v1 {speed: double}; v2 {speed: string} (under NONE); candidate v3 adds `fuel` to v2. */
const v1 = version(1, infer({ speed: 1 }));
const v2 = version(2, mergeSchemas('vehicle', v1.schema, infer({ speed: 'x' }), 1, 'NONE').schema);
const v3 = mergeSchemas('vehicle', v2.schema, infer({ fuel: 1 }), 2, 'NONE').schema;
/** A field first seen only as null, then as a number: BACKWARD reads it, FORWARD cannot. */
const n1 = version(1, infer({ x: null }));
const n2 = mergeSchemas('k', n1.schema, infer({ x: 5 }), 1, 'BACKWARD').schema;

describe('incompatibility', () => {
  it.each<[Compatibility, AvroRecordSchema, RegisteredSchema[], string | undefined]>([
    ['BACKWARD', v3, [v1, v2], undefined], // only the latest (v2) counts: adding a field is fine
    ['FORWARD', v3, [v1, v2], undefined],
    ['FULL', v3, [v1, v2], undefined],
    ['BACKWARD_TRANSITIVE', v3, [v1, v2], 'speed: double → string (v1, backward)'],
    ['FORWARD_TRANSITIVE', v3, [v1, v2], 'speed: double → string (v1, forward)'],
    ['FULL_TRANSITIVE', v3, [v1, v2], 'speed: double → string (v1, backward)'],
    ['NONE', v3, [v1, v2], undefined],
    ['BACKWARD', v2.schema, [v1], 'speed: double → string (v1, backward)'],
    ['BACKWARD', n2, [n1], undefined],
    ['FORWARD', n2, [n1], 'x: null → double (v1, forward)'],
    ['FULL', n2, [n1], 'x: null → double (v1, forward)'],
  ])('%s', (mode, candidate, earlier, expected) => {
    const found = incompatibility(mode, candidate, earlier);
    const text =
      found && `${found.field}: ${found.from} → ${found.to} (v${found.version}, ${found.direction})`;
    expect(text).toBe(expected);
  });
});

describe('fieldChanges', () => {
  it('names added, changed and removed fields at every depth', () => {
    const before = infer({ speed: 1, engine: { temp: 90 }, tags: ['a'], gone: true });
    const after = infer({ speed: 'x', engine: { temp: 90, rpm: 3000 }, tags: [1] });
    expect(fieldChanges(before, after)).toEqual([
      { field: 'engine.rpm', from: null, to: 'double' },
      { field: 'gone', from: 'boolean', to: null },
      { field: 'speed', from: 'double', to: 'string' },
      { field: 'tags', from: 'array of string', to: 'array of double' },
    ]);
    expect(fieldChanges(undefined, infer({ a: 1 }))).toEqual([{ field: 'a', from: null, to: 'double' }]);
  });
});

describe('dryRun', () => {
  it('reports the version, changes and the refusal without registering', () => {
    const refused = dryRun('vehicle', [{ speed: 'fast' }], [v1], 'BACKWARD', limits);
    expect(refused).toMatchObject({
      wouldRegister: true,
      version: 2,
      compatible: false,
      changes: [{ field: 'speed', from: 'double', to: 'string' }],
      incompatibility: { field: 'speed', from: 'double', to: 'string', version: 1 },
    });
    expect(dryRun('vehicle', [{ speed: 2 }], [v1], 'BACKWARD', limits)).toMatchObject({
      wouldRegister: false,
      version: 1,
      compatible: true,
      changes: [],
    });
    // Under NONE, a shape that returns to an earlier version's reuses it.
    expect(dryRun('vehicle', [{ speed: 1 }], [v1, v2], 'NONE', limits)).toMatchObject({
      wouldRegister: false,
      version: 1,
      changes: [{ field: 'speed', from: 'string', to: 'double' }],
    });
    expect(dryRun('new', [{ a: 1 }], [], 'BACKWARD', limits)).toMatchObject({
      wouldRegister: true,
      version: 1,
    });
  });
});

// SPDX-License-Identifier: MIT
// Property: over random schema histories (each version the merge of the previous one with a new write,
// as the registry builds them; types change as under NONE), reading any version's data as any version
// either resolves by the Avro rules — every reader field present, a field the writer lacked null, a
// field the reader lacks gone, values untouched — or is refused with a clear error. Never garbage. The
// compatibility checker agrees with avsc's own resolver on every pair, and so do the modes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AvroFieldType,
  type AvroRecordSchema,
  avroType,
  type Compatibility,
  fingerprintOf,
  incompatibility,
  inferSchema,
  mergeSchemas,
  type RegisteredSchema,
  readAs,
  readProblem,
  VersionUnreadableError,
} from '../../../schemas/index.js';

const limits = { fieldsMax: 64, stringLengthMax: 64 };
const names = ['a', 'b', 'c', 'speed'];

const scalar = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
);
const nested = fc.dictionary(fc.constantFrom('x', 'y'), scalar, { maxKeys: 2 });
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: nested },
  {
    weight: 1,
    arbitrary: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), {
      maxLength: 3,
    }),
  },
);
const datum = fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 4 });

/** A history: version i is the merge (under NONE) of version i-1 with write i; write i is its datum. */
function historyOf(writes: readonly Record<string, unknown>[]): {
  versions: RegisteredSchema[];
  data: Record<string, unknown>[];
} {
  const versions: RegisteredSchema[] = [];
  const data: Record<string, unknown>[] = [];
  let latest: AvroRecordSchema | undefined;
  for (const write of writes) {
    const { schema } = mergeSchemas('k', latest, inferSchema(write, limits), versions.length, 'NONE');
    latest = schema;
    versions.push({
      schemaId: versions.length + 1,
      subject: 'k',
      version: versions.length + 1,
      schema,
      fingerprint: fingerprintOf(schema),
      type: avroType(schema),
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    data.push(write);
  }
  return { versions, data };
}

function avscResolves(reader: RegisteredSchema, writer: RegisteredSchema): boolean {
  try {
    reader.type.createResolver(writer.type);
    return true;
  } catch {
    return false;
  }
}

/** What the reader must see of `data`: its fields only; top level every reader field, null when absent. */
function expected(reader: AvroRecordSchema, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of reader.fields) out[field.name] = project(field.type, data[field.name]) ?? null;
  return out;
}

function project(type: AvroFieldType, v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  const core = type === 'null' ? undefined : type[1];
  if (core !== undefined && typeof core !== 'string' && core.type === 'record') {
    const out: Record<string, unknown> = {};
    for (const f of core.fields) {
      const inner = project(f.type, (v as Record<string, unknown>)[f.name]);
      if (inner !== undefined) out[f.name] = inner;
    }
    return out;
  }
  return v;
}

describe('reading any event as any version', () => {
  it('resolves per the Avro rules or is refused clearly; the checker agrees with avsc', () => {
    fc.assert(
      fc.property(fc.array(datum, { minLength: 1, maxLength: 6 }), (writes) => {
        const { versions, data } = historyOf(writes);
        for (const [w, writer] of versions.entries()) {
          for (const reader of versions) {
            const problem = readProblem(reader.schema, writer.schema);
            expect(problem === undefined, `v${writer.version} as v${reader.version}`).toBe(
              avscResolves(reader, writer),
            );
            if (problem === undefined) {
              expect(readAs(writer, reader, data[w]!)).toEqual(expected(reader.schema, data[w]!));
            } else {
              expect(() => readAs(writer, reader, data[w]!)).toThrow(VersionUnreadableError);
              expect(() => readAs(writer, reader, data[w]!)).toThrow(
                new RegExp(`field '${problem.field.replace(/[[\]]/g, '\\$&')}' is `),
              );
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('each mode refuses exactly the histories Avro resolution says it must', () => {
    const modes: Compatibility[] = [
      'BACKWARD',
      'FORWARD',
      'FULL',
      'BACKWARD_TRANSITIVE',
      'FORWARD_TRANSITIVE',
      'FULL_TRANSITIVE',
      'NONE',
    ];
    fc.assert(
      fc.property(
        fc.array(datum, { minLength: 2, maxLength: 5 }),
        fc.constantFrom(...modes),
        (writes, mode) => {
          const { versions } = historyOf(writes);
          const candidate = versions.at(-1)!;
          const earlier = versions.slice(0, -1);
          const against = mode.endsWith('_TRANSITIVE') ? earlier : earlier.slice(-1);
          const backward = mode.startsWith('BACKWARD') || mode.startsWith('FULL');
          const forward = mode.startsWith('FORWARD') || mode.startsWith('FULL');
          const ok = against.every(
            (prev) =>
              (!backward || avscResolves(candidate, prev)) && (!forward || avscResolves(prev, candidate)),
          );
          const found = incompatibility(mode, candidate.schema, earlier);
          expect(found === undefined, mode).toBe(mode === 'NONE' || ok);
        },
      ),
      { numRuns: 300 },
    );
  });
});

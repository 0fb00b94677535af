// SPDX-License-Identifier: MIT
// What a write would do to a subject's schema, computed without writing: the schema it would register
// (or the version that already covers it), the field changes, and whether the subject's mode allows it.
import { fingerprintOf } from './codec.js';
import { type FieldChange, fieldChanges, type Incompatibility, incompatibility } from './compatibility.js';
import { type InferLimits, inferSchema } from './infer.js';
import { mergeMany, mergeSchemas } from './merge.js';
import type { AvroRecordSchema, Compatibility, RegisteredSchema } from './types.js';

export interface DryRun {
  readonly subject: string;
  readonly mode: Compatibility;
  /** True when the write needs a version the subject does not have yet. */
  readonly wouldRegister: boolean;
  /** The version the write would be encoded with: an existing one, or the next number. */
  readonly version: number;
  readonly compatible: boolean;
  /** Why the mode refuses it (undefined when compatible). */
  readonly incompatibility: Incompatibility | undefined;
  /** From the latest version to the schema the write would register. */
  readonly changes: readonly FieldChange[];
  /** The schema the write would be encoded with. */
  readonly schema: AvroRecordSchema;
}

/**
 * The dry run of writing `datas` to a subject whose versions (oldest first) and mode are given. Bad data
 * throws InvalidDataError, as the write would; a mode's refusal is reported, not thrown.
 */
export function dryRun(
  subject: string,
  datas: readonly Readonly<Record<string, unknown>>[],
  versions: readonly RegisteredSchema[],
  mode: Compatibility,
  limits: InferLimits,
): DryRun {
  const incoming = mergeMany(
    subject,
    datas.map((data) => inferSchema(data, limits)),
  );
  const latest = versions.at(-1);
  // Merged as NONE would (the new type replaces the old), so a refused change is still described.
  const { schema, changed } = mergeSchemas(subject, latest?.schema, incoming, latest?.version ?? 0, 'NONE');
  const fingerprint = changed ? fingerprintOf(schema) : latest?.fingerprint;
  const existing = versions.find((v) => v.fingerprint === fingerprint);
  const found = existing === undefined ? incompatibility(mode, schema, versions) : undefined;
  return {
    subject,
    mode,
    wouldRegister: existing === undefined,
    version: existing?.version ?? (latest?.version ?? 0) + 1,
    compatible: found === undefined,
    incompatibility: found,
    changes: existing === latest ? [] : fieldChanges(latest?.schema, schema),
    schema,
  };
}

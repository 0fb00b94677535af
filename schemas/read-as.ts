// SPDX-License-Identifier: MIT
// Reading data written under one version of a subject as another version, by Avro's writer → reader
// resolution: a field the reader lacks is dropped, a field the writer lacked takes the reader's default
// (null), and a field whose types do not resolve makes the whole datum unreadable as that version — a
// clear VersionUnreadableError, never a guessed value.
import { avroType, decodePayload, encodePayload, fingerprintOfType } from './codec.js';
import { readProblem } from './compatibility.js';
import { VersionUnreadableError } from './errors.js';
import type { RegisteredSchema } from './types.js';

/** writer fingerprint → reader fingerprint → problem (or null when it resolves). Versions are immutable. */
const verdicts = new Map<string, Map<string, ReturnType<typeof readProblem> | null>>();
const verdictsMax = 10_000;

/** Whether data written with `writer` can be read as `reader`; the refusal it would give otherwise. */
export function readableAs(
  writer: RegisteredSchema,
  reader: RegisteredSchema,
): VersionUnreadableError | undefined {
  let byReader = verdicts.get(writer.fingerprint);
  if (byReader === undefined) {
    if (verdicts.size >= verdictsMax) verdicts.clear();
    byReader = new Map();
    verdicts.set(writer.fingerprint, byReader);
  }
  let verdict = byReader.get(reader.fingerprint);
  if (verdict === undefined) {
    verdict =
      writer.fingerprint === reader.fingerprint ? null : (readProblem(reader.schema, writer.schema) ?? null);
    byReader.set(reader.fingerprint, verdict);
  }
  if (verdict === null) return undefined;
  return new VersionUnreadableError(writer.subject, writer.version, reader.version, verdict);
}

/**
 * `data` (a decoded payload written with `writer`) as `reader` reads it: the Avro bytes `writer` wrote,
 * decoded with the resolver from `writer` to `reader`. Every field of the reader is present (null when
 * the writer lacked it). Throws VersionUnreadableError when the versions do not resolve.
 */
export function readAs(
  writer: RegisteredSchema,
  reader: RegisteredSchema,
  data: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const refusal = readableAs(writer, reader);
  if (refusal !== undefined) throw refusal;
  const read = decodePayload(writer, encodePayload(writer, data), reader);
  const out: Record<string, unknown> = {};
  for (const field of reader.schema.fields) out[field.name] = read[field.name] ?? null;
  return out;
}

/**
 * The writer narrowed to the fields `names` (a target's state gathers fields from several events: each
 * field resolves from the version that wrote it, whatever else that version held).
 */
export function narrowedTo(writer: RegisteredSchema, names: ReadonlySet<string>): RegisteredSchema {
  if (writer.schema.fields.every((f) => names.has(f.name))) return writer;
  const schema = { ...writer.schema, fields: writer.schema.fields.filter((f) => names.has(f.name)) };
  const type = avroType(schema);
  return { ...writer, schema, type, fingerprint: fingerprintOfType(type) };
}

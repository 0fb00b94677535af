// SPDX-License-Identifier: MIT
// Field names: what a speaker may call a field, and how such a name is spelt inside Avro.
//
// A field name is any non-empty string of at most `fieldNameLengthMax` characters without control
// characters: Hangul, emoji, spaces, `°`, `%`, brackets, dots… Avro only allows `[A-Za-z_][A-Za-z0-9_]*`,
// so inside Avro (and only there) a name is encoded:
//   - a name that is already an Avro name and does not start with `_x` is kept as it is (the common
//     case, and every name tmiDB accepted before names were free);
//   - any other name becomes `_x` followed by the lowercase hex of its UTF-8 bytes (`온도` → `_xec98a8eb8f84`).
// The two sets are disjoint (kept names never start with `_x`; encoded ones always do) and hex is
// one-to-one, so two different names never share an encoding: `a.b` (→ `_x612e62`) is not the nested
// `{a:{b}}` (fields `a` and `b`), `a b` (→ `_x612062`) is not `a_b`. See docs/adr/0006-free-field-names.md.

/** Characters (Unicode code points) of a field name. */
export const fieldNameLengthMax = 128;

const avroNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const escapePrefix = '_x';
const hexPattern = /^(?:[0-9a-f]{2})+$/;
// C0 and C1 control characters, DEL, and the line/paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const controlPattern = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** A lone surrogate has no UTF-8 spelling: two such names would encode alike. */
const loneSurrogatePattern = /\p{Cs}/u;

/** Why `name` is not a field name, or undefined when it is one. */
export function fieldNameProblem(name: string, lengthMax: number = fieldNameLengthMax): string | undefined {
  if (name === '') return 'is empty';
  if (name === '__proto__') return 'is reserved';
  if (name.length > lengthMax) {
    // UTF-16 units ≥ code points: count the latter only when the former are over.
    const codePoints = [...name].length;
    if (codePoints > lengthMax) return `has ${codePoints} characters; at most ${lengthMax}`;
  }
  if (controlPattern.test(name)) return 'holds a control character';
  if (loneSurrogatePattern.test(name)) return 'holds a lone UTF-16 surrogate (not Unicode text)';
  return undefined;
}

/** The Avro spelling of a field name (one-to-one; see the file comment). */
export function avroNameOf(name: string): string {
  if (avroNamePattern.test(name) && !name.startsWith(escapePrefix)) return name;
  return escapePrefix + Buffer.from(name, 'utf8').toString('hex');
}

/** Whether `avroNameOf(name) !== name`. */
export function needsAvroEncoding(name: string): boolean {
  return !avroNamePattern.test(name) || name.startsWith(escapePrefix);
}

/** The field name an Avro name spells (the inverse of avroNameOf). */
export function fieldNameOfAvro(avroName: string): string {
  if (!avroName.startsWith(escapePrefix)) return avroName;
  const hex = avroName.slice(escapePrefix.length);
  if (!hexPattern.test(hex)) return avroName; // not ours: never produced by avroNameOf
  return Buffer.from(hex, 'hex').toString('utf8');
}

/** A JSON-schema `pattern` for a field name (the length goes in maxLength): no control characters. */
export const fieldNameJsonPattern = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+$';

/**
 * The field a path names in `data`: a top-level field of exactly that name first (`a.b`, `Temp (°C)`),
 * else the dotted path through nested objects (`engine.temp`). `present` is false when neither exists.
 */
export function fieldAt(
  data: Readonly<Record<string, unknown>>,
  path: string,
): { present: boolean; value?: unknown } {
  if (Object.hasOwn(data, path)) return { present: true, value: data[path] };
  if (!path.includes('.')) return { present: false };
  let node: unknown = data;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) {
      return { present: false };
    }
    node = (node as Record<string, unknown>)[key];
  }
  return { present: true, value: node };
}

// SPDX-License-Identifier: MIT
// Where each top-level field of an Avro-encoded payload lies in its bytes, found by skipping through them
// (Avro binary is the fields' encodings one after the other, without names or lengths). Lets the compiled
// mapping rules move fields as bytes instead of decoding and encoding every value. Payload schemas use the
// subset in schemas/types.ts: every field `null` or `['null', T]`, T a boolean, double, string, record or
// array.
import type { AvroFieldType, AvroItemsType, AvroRecordSchema, AvroValueType } from '../../schemas/index.js';

/** Skips one value starting at `pos`; returns where the next begins. Throws on bytes that cannot be it. */
type Skip = (buf: Buffer, pos: number) => number;

/**
 * Splits payload bytes of `schema` into its top-level fields: for field k, `starts[k]` and `ends[k]`
 * bound its encoding (the union branch index included), or `starts[k]` is -1 when it is null.
 */
export type FieldSplitter = (buf: Buffer, starts: Int32Array, ends: Int32Array) => void;

export function fieldSplitter(schema: AvroRecordSchema): FieldSplitter {
  const skips = schema.fields.map((f) => skipOfField(f.type));
  return (buf, starts, ends) => {
    let pos = 0;
    for (let k = 0; k < skips.length; k++) {
      const start = pos;
      pos = skips[k]!(buf, pos);
      // An absent value is a null: a zero-length `null` field, or the union's branch 0 (one byte, 0x00).
      const absent = pos === start || (pos === start + 1 && buf[start] === 0);
      starts[k] = absent ? -1 : start;
      ends[k] = pos;
    }
    if (pos !== buf.length)
      throw new RangeError(`payload has ${buf.length - pos} bytes after its last field`);
  };
}

function skipOfField(type: AvroFieldType): Skip {
  return type === 'null' ? (_buf, pos) => pos : skipOfNullable(skipOf(type[1]));
}

function skipOfNullable(skipValue: Skip): Skip {
  return (buf, pos) => {
    const branch = readLong(buf, pos);
    if (branch === 0) return longEnd;
    if (branch !== 1) throw new RangeError(`union branch ${branch} at byte ${pos}`);
    return skipValue(buf, longEnd);
  };
}

function skipOf(type: AvroValueType): Skip {
  if (type === 'boolean') return (buf, pos) => within(buf, pos + 1);
  if (type === 'double') return (buf, pos) => within(buf, pos + 8);
  if (type === 'string') {
    return (buf, pos) => {
      const length = readLong(buf, pos);
      if (length < 0) throw new RangeError(`negative string length at byte ${pos}`);
      return within(buf, longEnd + length);
    };
  }
  if (type.type === 'record') {
    const skips = type.fields.map((f) => skipOfField(f.type));
    return (buf, pos) => {
      let at = pos;
      for (const skip of skips) at = skip(buf, at);
      return at;
    };
  }
  return skipOfArray(type.items);
}

function skipOfArray(items: AvroItemsType): Skip {
  const skipItem: Skip =
    items === 'null'
      ? (_buf, pos) => pos
      : Array.isArray(items)
        ? skipOfNullable(skipOf((items as readonly ['null', AvroValueType])[1]))
        : skipOf(items as AvroValueType);
  return (buf, pos) => {
    let at = pos;
    for (;;) {
      let count = readLong(buf, at);
      at = longEnd;
      if (count === 0) return at;
      if (count < 0) {
        count = -count;
        readLong(buf, at); // the block's size in bytes, which skipping item by item does not need
        at = longEnd;
      }
      for (let i = 0; i < count; i++) at = skipItem(buf, at);
    }
  };
}

function within(buf: Buffer, end: number): number {
  if (end > buf.length) throw new RangeError('payload is truncated');
  return end;
}

/** Where the last long read ended (readLong returns its value; no object per call on this hot path). */
let longEnd = 0;

/** A zig-zag varint long (Avro's int and long) at `pos`; `longEnd` is set to where it ends. */
function readLong(buf: Buffer, pos: number): number {
  let n = 0;
  let scale = 1;
  let at = pos;
  for (;;) {
    if (at >= buf.length) throw new RangeError('payload is truncated');
    const byte = buf[at++]!;
    n += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) break;
    scale *= 128;
    if (scale > 2 ** 56) throw new RangeError(`varint too long at byte ${pos}`);
  }
  longEnd = at;
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

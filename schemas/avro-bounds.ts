// SPDX-License-Identifier: MIT
// Avro bytes checked against their writer's type before avsc decodes them. avsc (5.7.9) trusts an array's
// or a map's block count: `ff ff ff ff 01` makes it allocate and read 268 M items past the end of a 5-byte
// body until the process runs out of memory — a stage fed such a message would die on every redelivery
// instead of dead-lettering it. This walk reads every length and count without allocating and refuses a
// count the bytes left cannot hold, so a poison message is refused like any other undecodable one.
import type avro from 'avsc';

/** Items of zero bytes each (nulls, empty records) one array or map block may claim. */
export const avroZeroSizeItemsMax = 1_000_000;

export class AvroBoundsError extends Error {}

interface Cursor {
  readonly buf: Buffer;
  pos: number;
}

/** Throws AvroBoundsError when `buf` cannot be `type`'s encoding because a length or a count overruns it. */
export function checkAvroBounds(type: avro.Type, buf: Buffer): void {
  const c: Cursor = { buf, pos: 0 };
  walk(type, c);
}

type AnyType = avro.Type & {
  readonly typeName: string;
  readonly itemsType?: AnyType;
  readonly valuesType?: AnyType;
  readonly fields?: readonly { readonly type: AnyType }[];
  readonly types?: readonly AnyType[];
  readonly size?: number;
  readonly underlyingType?: AnyType;
};

function walk(t: avro.Type, c: Cursor): void {
  const type = t as AnyType;
  if (type.underlyingType) {
    walk(type.underlyingType, c);
    return;
  }
  switch (type.typeName) {
    case 'null':
      break;
    case 'boolean':
      advance(c, 1);
      break;
    case 'int':
    case 'long':
    case 'enum':
      readLong(c);
      break;
    case 'float':
      advance(c, 4);
      break;
    case 'double':
      advance(c, 8);
      break;
    case 'string':
    case 'bytes':
      advance(c, readLength(c));
      break;
    case 'fixed':
      advance(c, type.size ?? 0);
      break;
    case 'record':
    case 'error':
      for (const f of type.fields ?? []) walk(f.type, c);
      break;
    case 'array':
      walkBlocks(c, type.itemsType!, false);
      break;
    case 'map':
      walkBlocks(c, type.valuesType!, true);
      break;
    default:
      if (!type.typeName.startsWith('union')) {
        throw new AvroBoundsError(`no bounds walk for Avro type ${type.typeName}`);
      }
      walkUnion(type, c);
  }
}

function walkUnion(type: AnyType, c: Cursor): void {
  const index = readLong(c);
  const branch = type.types?.[index];
  if (branch === undefined) throw new AvroBoundsError(`union branch ${index} does not exist`);
  walk(branch, c);
}

/** An array's or a map's blocks: each a count (negative: followed by its byte size), then its items. */
function walkBlocks(c: Cursor, items: AnyType, keyed: boolean): void {
  const itemBytesMin = bytesMin(items) + (keyed ? 1 : 0);
  for (;;) {
    let n = readLong(c);
    if (n === 0) return;
    if (n < 0) {
      n = -n;
      readLength(c);
    }
    const fits = itemBytesMin === 0 ? n <= avroZeroSizeItemsMax : n * itemBytesMin <= c.buf.length - c.pos;
    if (!fits) throw new AvroBoundsError(`a block of ${n} items overruns the ${c.buf.length}-byte body`);
    for (let i = 0; i < n; i++) {
      if (keyed) advance(c, readLength(c));
      walk(items, c);
    }
  }
}

/** The fewest bytes a value of the type takes (0 only for null and records of nulls). */
function bytesMin(t: AnyType): number {
  if (t.underlyingType) return bytesMin(t.underlyingType);
  switch (t.typeName) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return t.size ?? 0;
    case 'record':
    case 'error':
      return (t.fields ?? []).reduce((sum, f) => sum + bytesMin(f.type), 0);
    default:
      return 1;
  }
}

function advance(c: Cursor, bytes: number): void {
  if (c.pos + bytes > c.buf.length) throw new AvroBoundsError(`${bytes} bytes overrun the body at ${c.pos}`);
  c.pos += bytes;
}

function readLength(c: Cursor): number {
  const len = readLong(c);
  if (len < 0) throw new AvroBoundsError(`negative length ${len} at ${c.pos}`);
  return len;
}

/** A zigzag varint of at most 10 bytes, as a double (Avro longs beyond 2^53 lose precision, as in avsc). */
function readLong(c: Cursor): number {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.buf.length) throw new AvroBoundsError('a number overruns the body');
    const b = c.buf[c.pos++]!;
    n += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
    scale *= 128;
  }
  throw new AvroBoundsError('a number longer than 10 bytes');
}

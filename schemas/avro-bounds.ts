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
  walkerOf(type as AnyType)({ buf, pos: 0 });
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

type Walker = (c: Cursor) => void;

/** One walker per type, compiled once (a generic walk that switched on type names cost twice as much). */
const walkers = new WeakMap<AnyType, Walker>();

function walkerOf(type: AnyType): Walker {
  let w = walkers.get(type);
  if (w === undefined) {
    // A recursive record reaches itself while compiling: it calls the finished walker through this slot.
    let compiled: Walker | undefined;
    walkers.set(type, (c) => compiled!(c));
    compiled = compile(type);
    walkers.set(type, compiled);
    w = compiled;
  }
  return w;
}

const skipNothing: Walker = () => {};
const skipLong: Walker = (c) => {
  readLong(c);
};
const skipSized =
  (bytes: number): Walker =>
  (c) =>
    advance(c, bytes);
const skipLengthPrefixed: Walker = (c) => advance(c, readLength(c));

function compile(type: AnyType): Walker {
  if (type.underlyingType) return walkerOf(type.underlyingType);
  switch (type.typeName) {
    case 'null':
      return skipNothing;
    case 'boolean':
      return skipSized(1);
    case 'int':
    case 'long':
    case 'enum':
      return skipLong;
    case 'float':
      return skipSized(4);
    case 'double':
      return skipSized(8);
    case 'string':
    case 'bytes':
      return skipLengthPrefixed;
    case 'fixed':
      return skipSized(type.size ?? 0);
    case 'record':
    case 'error':
      return recordWalker(type);
    case 'array':
      return blocksWalker(type.itemsType!, false);
    case 'map':
      return blocksWalker(type.valuesType!, true);
    default:
      if (!type.typeName.startsWith('union')) {
        throw new AvroBoundsError(`no bounds walk for Avro type ${type.typeName}`);
      }
      return unionWalker(type);
  }
}

function recordWalker(type: AnyType): Walker {
  const fields = (type.fields ?? []).map((f) => walkerOf(f.type));
  return (c) => {
    for (let i = 0; i < fields.length; i++) fields[i]!(c);
  };
}

function unionWalker(type: AnyType): Walker {
  const branches = (type.types ?? []).map((t) => walkerOf(t));
  return (c) => {
    const index = readLong(c);
    const branch = branches[index];
    if (branch === undefined) throw new AvroBoundsError(`union branch ${index} does not exist`);
    branch(c);
  };
}

/** An array's or a map's blocks: each a count (negative: followed by its byte size), then its items. */
function blocksWalker(items: AnyType, keyed: boolean): Walker {
  const item = walkerOf(items);
  const itemBytesMin = bytesMin(items) + (keyed ? 1 : 0);
  return (c) => {
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
        if (keyed) skipLengthPrefixed(c);
        item(c);
      }
    }
  };
}

/** The fewest bytes a value of the type takes (0 only for null and records of nulls). */
function bytesMin(t: AnyType, seen = new Set<AnyType>()): number {
  if (t.underlyingType) return bytesMin(t.underlyingType, seen);
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
    case 'error': {
      if (seen.has(t)) return 0; // recursion: at least what the outer level counted
      seen.add(t);
      return (t.fields ?? []).reduce((sum, f) => sum + bytesMin(f.type, seen), 0);
    }
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

// SPDX-License-Identifier: MIT
// normalize, pure core: the mapping rules in force for one writer schema, compiled once into a transform
// from the writer's payload bytes to the normalized schema's, for the stage's common case (issue 11: the
// AI normalizer's rules must cost next to nothing per event). The generic path decodes to plain JSON,
// applies the rules (applyRules), has the registry check the shape and encodes again; the compiled one
// works on avsc's decoded record and encodes it with the normalized schema straight away, because what
// the rules can produce is known from the writer schema and the rules alone.
//
// Same bytes as the generic path, or no transform at all (the stage then takes the generic path):
// compileRules declines whenever it cannot prove that every event of the writer schema comes out as
// `encodePayload(norm, applyRules(decodePayload(writer, bytes), rules))` — a rule on a dotted path (a
// nested field, or a name holding a dot), a `map` that may clash (its canonical field may be there
// already: the clash is reported by the generic path), or a field the rules may produce that the
// normalized schema lacks or types otherwise. A conversion that would give a non-finite number throws,
// so that event's message too takes the generic path (which refuses it as it always did).
//
// Two modes. `bytes`: when every field that comes out is encoded exactly as it went in (the same type,
// nested records with the same fields in the same order) and every conversion acts on doubles only, the
// transform moves the fields' byte ranges (avro-fields.ts), writes the converted doubles and a null byte for
// each field of the normalized schema the event lacks — no value is decoded. `records`: otherwise it
// decodes with avsc and encodes avsc's record with the normalized schema (a field the normalized schema
// has and the writer lacks is written as null either way).
import type {
  AvroFieldType,
  AvroRecordSchema,
  AvroValueType,
  RegisteredSchema,
} from '../../schemas/index.js';
import { fieldSplitter } from './avro-fields.js';
import type { MappingRule } from './normalize-core.js';

/** The writer's payload bytes → the normalized schema's; throws on bytes the writer cannot decode. */
export interface CompiledRules {
  (payload: Uint8Array): Buffer;
  /** How it works (see the file comment). */
  readonly mode: 'bytes' | 'records';
}

type Op =
  | { readonly op: 'drop'; readonly at: number }
  | { readonly op: 'rename'; readonly from: number; readonly to: number }
  | {
      readonly op: 'convert';
      readonly at: number;
      readonly scale: number;
      readonly offset: number;
      /** The value's possible types: all doubles (true), none (false), or both (undefined). */
      readonly numeric: boolean | undefined;
    }
  | {
      readonly op: 'map';
      readonly from: number;
      readonly to: number;
      readonly convert: boolean;
      readonly scale: number;
      readonly offset: number;
      readonly numeric: boolean | undefined;
    };

type CodecSchema = Pick<RegisteredSchema, 'schema' | 'type'>;

/** The transform, or undefined when it could differ from the generic path for some event (see above). */
export function compileRules(
  writer: CodecSchema,
  rules: readonly MappingRule[],
  norm: CodecSchema,
): CompiledRules | undefined {
  if (rules.some((r) => r.field.includes('.') || (r.toField?.includes('.') ?? false))) return undefined;
  const slots = new Slots(writer.schema);
  const ops: Op[] = [];
  for (const rule of rules) {
    const op = slots.apply(rule);
    if (op === undefined) return undefined;
    ops.push(op);
  }
  const normSlots = slotsOfNorm(slots, norm.schema);
  if (normSlots === undefined) return undefined;
  const plan: Plan = { writer, norm, ops, normSlots, slotCount: slots.names.length };
  return keepsEncodings(slots, ops, norm.schema, normSlots) ? bytesTransform(plan) : recordsTransform(plan);
}

interface Plan {
  readonly writer: CodecSchema;
  readonly norm: CodecSchema;
  readonly ops: readonly Op[];
  /** For each field of the normalized schema, the slot its value comes from (-1: none). */
  readonly normSlots: readonly number[];
  readonly slotCount: number;
}

function recordsTransform({ writer, norm, ops, normSlots, slotCount }: Plan): CompiledRules {
  const writerAvroNames = avroFieldNames(writer);
  const normAvroNames = avroFieldNames(norm);
  const transform = (payload: Uint8Array) => {
    const record = writer.type.fromBuffer(bufferOf(payload)) as Record<string, unknown>;
    const values: unknown[] = new Array(slotCount);
    for (let k = 0; k < writerAvroNames.length; k++) {
      const value = record[writerAvroNames[k]!];
      values[k] = value === null ? undefined : value; // null is absent, as in the plain data
    }
    for (const op of ops) run(op, values);
    const out: Record<string, unknown> = {};
    for (let k = 0; k < normAvroNames.length; k++) {
      const slot = normSlots[k]!;
      if (slot >= 0) out[normAvroNames[k]!] = values[slot];
    }
    return norm.type.toBuffer(out);
  };
  return Object.assign(transform, { mode: 'records' as const });
}

/** A slot's bytes: its range in the payload, absent, or a converted double held in `doubles`. */
const absent = -1;
const convertedDouble = -2;

function bytesTransform({ writer, norm, ops, normSlots, slotCount }: Plan): CompiledRules {
  const split = fieldSplitter(writer.schema);
  // A field of the normalized schema typed `null` takes no bytes; any other is a union (null: one 0 byte).
  const unions = norm.schema.fields.map((f) => f.type !== 'null');
  // Scratch space, reused: a transform runs to its end without yielding, so no two calls share it.
  const starts = new Int32Array(slotCount);
  const ends = new Int32Array(slotCount);
  const doubles = new Float64Array(slotCount);
  const transform = (payload: Uint8Array) => {
    const buf = bufferOf(payload);
    starts.fill(absent);
    split(buf, starts, ends);
    for (const op of ops) runOnBytes(op, buf, starts, ends, doubles);
    let length = 0;
    for (let k = 0; k < normSlots.length; k++) {
      const slot = normSlots[k]!;
      const start = slot < 0 ? absent : starts[slot]!;
      length += start === absent ? (unions[k] ? 1 : 0) : start === convertedDouble ? 9 : ends[slot]! - start;
    }
    const out = Buffer.allocUnsafe(length);
    let at = 0;
    // Ranges that follow each other in the payload are copied as one (usually most of the fields).
    let runStart = 0;
    let runEnd = 0;
    for (let k = 0; k < normSlots.length; k++) {
      const slot = normSlots[k]!;
      const start = slot < 0 ? absent : starts[slot]!;
      if (start >= 0 && start === runEnd && runEnd > runStart) {
        runEnd = ends[slot]!;
        continue;
      }
      at = copyRange(buf, runStart, runEnd, out, at);
      runStart = runEnd = 0;
      if (start === absent) {
        if (unions[k]) out[at++] = 0;
      } else if (start === convertedDouble) {
        out[at] = 2; // union branch 1, zig-zag encoded
        at = out.writeDoubleLE(doubles[slot]!, at + 1);
      } else {
        runStart = start;
        runEnd = ends[slot]!;
      }
    }
    copyRange(buf, runStart, runEnd, out, at);
    return out;
  };
  return Object.assign(transform, { mode: 'bytes' as const });
}

/** Bytes [start, end) of `from` into `to` at `at`; returns where they end there. */
function copyRange(from: Buffer, start: number, end: number, to: Buffer, at: number): number {
  // A few bytes are copied faster here than through Buffer#copy's call into C++.
  if (end - start > 64) return at + from.copy(to, at, start, end);
  let j = at;
  for (let i = start; i < end; i++) to[j++] = from[i]!;
  return j;
}

/** `run` on byte ranges: moves them, and converts doubles into `doubles`. */
function runOnBytes(op: Op, buf: Buffer, starts: Int32Array, ends: Int32Array, doubles: Float64Array): void {
  switch (op.op) {
    case 'drop':
      starts[op.at] = absent;
      return;
    case 'convert': {
      // numeric is true here (bytes mode): the value, when present, is a double.
      if (op.numeric !== true || starts[op.at] === absent) return;
      doubles[op.at] = converted(doubleAt(buf, starts, doubles, op.at), op.scale, op.offset);
      starts[op.at] = convertedDouble;
      return;
    }
    case 'rename':
    case 'map': {
      const { from, to } = op;
      if (starts[from] === absent || from === to) return;
      starts[to] = starts[from]!;
      ends[to] = ends[from]!;
      doubles[to] = doubles[from]!;
      starts[from] = absent;
      if (op.op === 'map' && op.convert && op.numeric === true) {
        doubles[to] = converted(doubleAt(buf, starts, doubles, to), op.scale, op.offset);
        starts[to] = convertedDouble;
      }
      return;
    }
  }
}

function doubleAt(buf: Buffer, starts: Int32Array, doubles: Float64Array, slot: number): number {
  const start = starts[slot]!;
  // After the union's branch byte (0x02).
  return start === convertedDouble ? doubles[slot]! : buf.readDoubleLE(start + 1);
}

function bufferOf(payload: Uint8Array): Buffer {
  return Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/** One rule on the values of one event: applyRule's semantics, on top-level fields (undefined: absent). */
function run(op: Op, values: unknown[]): void {
  switch (op.op) {
    case 'drop':
      values[op.at] = undefined;
      return;
    case 'rename': {
      const value = values[op.from];
      if (value === undefined) return;
      values[op.from] = undefined;
      values[op.to] = value;
      return;
    }
    case 'convert': {
      const value = values[op.at];
      if (typeof value === 'number') values[op.at] = converted(value, op.scale, op.offset);
      return;
    }
    case 'map': {
      const value = values[op.from];
      if (value === undefined) return;
      values[op.from] = undefined;
      values[op.to] = op.convert && typeof value === 'number' ? converted(value, op.scale, op.offset) : value;
      return;
    }
  }
}

/** value·scale + offset to 12 significant digits, exactly as applyRules computes it. */
function converted(value: number, scale: number, offset: number): number {
  const result = Number((value * scale + offset).toPrecision(12));
  // The generic path refuses a non-finite number when it encodes: let it (the caller falls back).
  if (!Number.isFinite(result)) throw new RangeError(`conversion gives ${result}`);
  return result;
}

/**
 * The top-level fields an event of the writer schema may hold as the rules go, each with the types its
 * value may have (empty: always absent). The writer's fields come first, in its order.
 */
class Slots {
  readonly names: string[] = [];
  readonly types: AvroValueType[][] = [];
  private readonly index = new Map<string, number>();

  constructor(writer: AvroRecordSchema) {
    for (const field of writer.fields) this.add(field.name, coreTypes(field.type));
  }

  /** The rule as an op on the slots, its effect on the possible types noted; undefined: may clash. */
  apply(rule: MappingRule): Op | undefined {
    const from = this.slot(rule.field);
    switch (rule.action) {
      case 'drop':
        this.types[from] = [];
        return { op: 'drop', at: from };
      case 'convert':
        // Numbers stay numbers (doubles) and anything else is left as it is: no type changes.
        return {
          op: 'convert',
          at: from,
          scale: rule.scale ?? 1,
          offset: rule.offset ?? 0,
          numeric: numericOf(this.types[from]!),
        };
      case 'rename': {
        const to = this.slot(rule.toField!);
        if (to !== from && this.types[from]!.length > 0) {
          this.types[to] = [...this.types[to]!, ...this.types[from]!];
          this.types[from] = [];
        }
        return { op: 'rename', from, to };
      }
      case 'map': {
        const to = this.slot(rule.toField!);
        if (this.types[from]!.length === 0)
          return { op: 'map', from, to, convert: false, scale: 1, offset: 0, numeric: false };
        if (this.types[to]!.length > 0) return undefined; // both may be there: a clash, the generic path's
        const numeric = numericOf(this.types[from]!);
        this.types[to] = this.types[from]!;
        this.types[from] = [];
        return {
          op: 'map',
          from,
          to,
          // As applyRules: converted unless the rule's scale and offset are exactly 1 and 0.
          convert: rule.scale !== 1 || rule.offset !== 0,
          scale: rule.scale ?? 1,
          offset: rule.offset ?? 0,
          numeric,
        };
      }
    }
  }

  slot(name: string): number {
    return this.index.get(name) ?? this.add(name, []);
  }

  private add(name: string, types: AvroValueType[]): number {
    this.index.set(name, this.names.length);
    this.names.push(name);
    this.types.push(types);
    return this.names.length - 1;
  }
}

/**
 * For each field of the normalized schema, the slot its value comes from (-1: none, always null); undefined
 * when a field the rules may produce is missing from the normalized schema or has another type there.
 */
function slotsOfNorm(slots: Slots, norm: AvroRecordSchema): number[] | undefined {
  const normFields = new Map(norm.fields.map((f, k) => [f.name, k]));
  const result = norm.fields.map(() => -1);
  for (let slot = 0; slot < slots.names.length; slot++) {
    const types = slots.types[slot]!;
    if (types.length === 0) continue;
    const k = normFields.get(slots.names[slot]!);
    if (k === undefined) return undefined;
    const normType = norm.fields[k]!.type;
    if (normType === 'null' || !types.every((t) => encodesAs(t, normType[1]))) return undefined;
    result[k] = slot;
  }
  return result;
}

/** Whether values of these types are all doubles (true), none (false), or may be either (undefined). */
function numericOf(types: readonly AvroValueType[]): boolean | undefined {
  const doubles = types.filter((t) => t === 'double').length;
  return doubles === types.length ? true : doubles === 0 ? false : undefined;
}

/**
 * Whether the bytes mode gives the records mode's bytes: every conversion knows whether its value is a
 * double, and every field that comes out has, whatever it came from, exactly its normalized encoding.
 */
function keepsEncodings(
  slots: Slots,
  ops: readonly Op[],
  norm: AvroRecordSchema,
  normSlots: readonly number[],
): boolean {
  const conversionsKnown = ops.every(
    (op) => (op.op !== 'convert' && (op.op !== 'map' || !op.convert)) || op.numeric !== undefined,
  );
  return (
    conversionsKnown &&
    normSlots.every((slot, k) => {
      const type = norm.fields[k]!.type;
      if (slot < 0 || type === 'null') return true;
      return slots.types[slot]!.every((t) => sameEncoding(t, type[1]));
    })
  );
}

/** Whether two types encode every value alike, byte for byte, and name fields alike (record names aside). */
export function sameEncoding(a: AvroValueType, b: AvroValueType): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a.type === 'record') {
    return (
      b.type === 'record' &&
      a.fields.length === b.fields.length &&
      a.fields.every((f, i) => {
        const g = b.fields[i]!;
        if (f.name !== g.name) return false;
        if (f.type === 'null' || g.type === 'null') return f.type === g.type;
        return sameEncoding(f.type[1], g.type[1]);
      })
    );
  }
  if (b.type !== 'array') return false;
  const ai = a.items;
  const bi = b.items;
  if (ai === 'null' || bi === 'null') return ai === bi;
  if (Array.isArray(ai) !== Array.isArray(bi)) return false;
  return Array.isArray(ai)
    ? sameEncoding((ai as readonly ['null', AvroValueType])[1], (bi as readonly ['null', AvroValueType])[1])
    : sameEncoding(ai as AvroValueType, bi as AvroValueType);
}

function coreTypes(type: AvroFieldType): AvroValueType[] {
  return type === 'null' ? [] : [type[1]];
}

/**
 * Whether every value of the writer's type `w`, as avsc decodes it, is encoded by the normalized type `n`
 * just as its plain JSON would be: the same primitive, an array whose items encode so, a record whose every
 * field the other has with a type it encodes as (a field the writer lacks is written as null either way).
 */
export function encodesAs(w: AvroValueType, n: AvroValueType): boolean {
  if (typeof w === 'string' || typeof n === 'string') return w === n;
  if (w.type === 'record') {
    if (n.type !== 'record') return false;
    const fields = new Map(n.fields.map((f) => [f.name, f.type]));
    return w.fields.every((f) => {
      if (f.type === 'null') return fields.has(f.name);
      const other = fields.get(f.name);
      return other !== undefined && other !== 'null' && encodesAs(f.type[1], other[1]);
    });
  }
  if (n.type !== 'array') return false;
  const wItems = w.items;
  const nItems = n.items;
  const nNullable = nItems === 'null' || Array.isArray(nItems);
  if (wItems === 'null') return nNullable;
  const nCore = nItems === 'null' ? undefined : Array.isArray(nItems) ? nItems[1] : (nItems as AvroValueType);
  if (nCore === undefined) return false;
  if (Array.isArray(wItems)) return nNullable && encodesAs(wItems[1], nCore);
  return encodesAs(wItems as AvroValueType, nCore);
}

function avroFieldNames(schema: CodecSchema): string[] {
  return (schema.type as unknown as { fields: readonly { name: string }[] }).fields.map((f) => f.name);
}

/** Compiled transforms by (writer schema id, normalized schema id, rule ids); declines are kept too. */
export class CompiledRulesCache {
  private readonly transforms = new Map<string, CompiledRules | null>();
  private readonly ruleKeys = new WeakMap<readonly MappingRule[], string>();

  constructor(private readonly entriesMax = compiledRulesEntriesMax) {}

  get(
    writer: RegisteredSchema,
    rules: readonly MappingRule[],
    norm: RegisteredSchema,
  ): CompiledRules | undefined {
    let ruleKey = this.ruleKeys.get(rules);
    if (ruleKey === undefined) {
      ruleKey = rules.map((r) => r.ruleId).join(',');
      this.ruleKeys.set(rules, ruleKey);
    }
    const key = `${writer.schemaId}:${norm.schemaId}:${ruleKey}`;
    let transform = this.transforms.get(key);
    if (transform === undefined) {
      // Kinds × writer versions × rule sets are few; should they not be, start again rather than grow.
      if (this.transforms.size >= this.entriesMax) this.transforms.clear();
      transform = compileRules(writer, rules, norm) ?? null;
      this.transforms.set(key, transform);
    }
    return transform ?? undefined;
  }
}

/** Compiled transforms kept at most (each is a few small arrays and a closure). */
export const compiledRulesEntriesMax = 4096;

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
import type {
  AvroFieldType,
  AvroRecordSchema,
  AvroValueType,
  RegisteredSchema,
} from '../../schemas/index.js';
import type { MappingRule } from './normalize-core.js';

/** The writer's payload bytes → the normalized schema's; throws on bytes the writer cannot decode. */
export type CompiledRules = (payload: Uint8Array) => Buffer;

type Op =
  | { readonly op: 'drop'; readonly at: number }
  | { readonly op: 'rename'; readonly from: number; readonly to: number }
  | { readonly op: 'convert'; readonly at: number; readonly scale: number; readonly offset: number }
  | {
      readonly op: 'map';
      readonly from: number;
      readonly to: number;
      readonly convert: boolean;
      readonly scale: number;
      readonly offset: number;
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
  const writerAvroNames = avroFieldNames(writer);
  const normAvroNames = avroFieldNames(norm);
  const slotCount = slots.names.length;
  return (payload) => {
    const buf = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const record = writer.type.fromBuffer(buf) as Record<string, unknown>;
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
        return { op: 'convert', at: from, scale: rule.scale ?? 1, offset: rule.offset ?? 0 };
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
          return { op: 'map', from, to, convert: false, scale: 1, offset: 0 };
        if (this.types[to]!.length > 0) return undefined; // both may be there: a clash, the generic path's
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

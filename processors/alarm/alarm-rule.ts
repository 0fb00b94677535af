// SPDX-License-Identifier: MIT
// Alarm rules, pure: their shape, and the one validation every rule passes before it is stored (so the
// alarm stage can trust what it loads). A rule is one of three types:
//   threshold — a condition on fields (all/any of clauses), held `for_s` seconds, with an optional
//               separate clear condition (hysteresis; default: the raise condition no longer holds);
//   deadman   — no data on a field for `timeout_s` seconds;
//   geofence  — a position inside/outside a circle, or entering/exiting it, held `for_s` seconds.
// Every rejection names the member and the rule it broke, with a stable code.
import { TaggedError } from '../../errors/index.js';
import { fieldNameLengthMax, fieldNameProblem } from '../../schemas/index.js';
import { latitudeDegreesMax, longitudeDegreesMax } from '../geo-core.js';

export const severities = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type Severity = (typeof severities)[number];
export const compareOps = ['>', '>=', '<', '<=', '==', '!='] as const;
export type CompareOp = (typeof compareOps)[number];
export const rangeOps = ['between', 'outside'] as const;
export type RangeOp = (typeof rangeOps)[number];
export const ruleTypes = ['threshold', 'deadman', 'geofence'] as const;
export type RuleType = (typeof ruleTypes)[number];
export const fenceTriggers = ['inside', 'outside', 'enter', 'exit'] as const;
export type FenceTrigger = (typeof fenceTriggers)[number];

/** Limits of a rule, units last. */
export const ruleNameLengthMax = 200;
export const ruleDescriptionLengthMax = 2000;
export const ruleClausesMax = 16;
/** A field path (`engine.temp`, `온도`, `Temp (°C)`), as the schema registry limits field names. */
export const ruleFieldNameLengthMax = fieldNameLengthMax;
export const ruleStringValueLengthMax = 256;
/** `for_s`, `timeout_s`: at most 30 days. */
export const ruleDurationSecondsMax = 30 * 86_400;
/** Half the circumference of earthdistance's sphere: a larger circle covers the whole earth. */
export const radiusMetersMax = 20_037_518;
export const ruleKindPattern = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type Scalar = number | string | boolean;
export type Clause =
  | { readonly field: string; readonly op: CompareOp; readonly value: Scalar }
  | { readonly field: string; readonly op: RangeOp; readonly min: number; readonly max: number };
export type Condition = { readonly all: readonly Clause[] } | { readonly any: readonly Clause[] };

export interface Fence {
  readonly lat: number;
  readonly lon: number;
  readonly radius_m: number;
}

export type RuleSpec =
  | {
      readonly type: 'threshold';
      readonly condition: Condition;
      readonly clear: Condition | null;
      readonly for_s: number;
    }
  | { readonly type: 'deadman'; readonly field: string; readonly timeout_s: number }
  | {
      readonly type: 'geofence';
      readonly fence: Fence;
      readonly trigger: FenceTrigger;
      readonly for_s: number;
    };

/** A rule as a client defines it (POST/PUT body, validated). */
export interface RuleDefinition {
  readonly name: string;
  readonly description: string;
  readonly target_id: string | null;
  readonly kind: string | null;
  readonly severity: Severity;
  readonly enabled: boolean;
  readonly spec: RuleSpec;
}

/** What the evaluation needs of a stored rule. */
export interface AlarmRule {
  readonly ruleId: string;
  readonly version: number;
  readonly name: string;
  readonly severity: Severity;
  readonly targetId: string | null;
  readonly kind: string | null;
  readonly spec: RuleSpec;
}

export type RuleProblemCode =
  | 'INVALID_RULE'
  | 'UNKNOWN_RULE_TYPE'
  | 'UNKNOWN_OPERATOR'
  | 'UNKNOWN_SEVERITY'
  | 'UNKNOWN_TRIGGER'
  | 'INVALID_FIELD_NAME'
  | 'FIELD_NAME_TOO_LONG'
  | 'INVALID_VALUE'
  | 'INVALID_RANGE'
  | 'NEGATIVE_DURATION'
  | 'INVALID_DURATION'
  | 'INVALID_RADIUS'
  | 'INVALID_COORDINATE'
  | 'INVALID_SCOPE';

export class AlarmRuleInvalidError extends TaggedError('AlarmRuleInvalidError')<RuleProblemCode> {}

const fail = (code: RuleProblemCode, detail: string): never => {
  throw new AlarmRuleInvalidError(code, detail);
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function allowOnly(o: Obj, where: string, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) {
      fail('INVALID_RULE', `${where}: unknown member '${key.slice(0, 64)}' (allowed: ${allowed.join(', ')})`);
    }
  }
}

function text(o: Obj, key: string, where: string, lengthMax: number, fallback?: string): string {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string') return fail('INVALID_RULE', `${where}${key} must be a string`);
  if (v.length > lengthMax)
    return fail('INVALID_RULE', `${where}${key} is longer than ${lengthMax} characters`);
  return v;
}

function finite(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    return fail('INVALID_VALUE', `${path} must be a finite number`);
  return v;
}

/**
 * A field: a top-level name as the speaker wrote it (`temp`, `온도`, `a.b`) or a dotted path into nested
 * objects (`engine.temp`); an exact top-level name wins over a path (see fieldAt).
 */
export function parseFieldPath(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') return fail('INVALID_FIELD_NAME', `${path} must be a field name`);
  const problem = fieldNameProblem(v, ruleFieldNameLengthMax);
  if (problem !== undefined) {
    fail(
      problem.startsWith('has ') ? 'FIELD_NAME_TOO_LONG' : 'INVALID_FIELD_NAME',
      `${path} '${v.slice(0, 80)}' ${problem}`,
    );
  }
  return v;
}

function duration(v: unknown, path: string, { zeroAllowed }: { zeroAllowed: boolean }): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    return fail('INVALID_DURATION', `${path} must be a number of seconds`);
  if (v < 0) return fail('NEGATIVE_DURATION', `${path} must not be negative, got ${v}`);
  if (v === 0 && !zeroAllowed) return fail('INVALID_DURATION', `${path} must be more than 0 seconds`);
  if (v > ruleDurationSecondsMax) {
    fail('INVALID_DURATION', `${path} must be at most ${ruleDurationSecondsMax} seconds (30 days), got ${v}`);
  }
  return v;
}

function parseClause(v: unknown, path: string): Clause {
  if (!isObj(v))
    return fail('INVALID_RULE', `${path} must be an object {field, op, value} or {field, op, min, max}`);
  const field = parseFieldPath(v.field, `${path}.field`);
  const op = v.op;
  if ((compareOps as readonly unknown[]).includes(op)) {
    allowOnly(v, path, compareClauseMembers);
    const value = v.value;
    if (op === '==' || op === '!=') {
      if (typeof value === 'string') {
        if (value.length > ruleStringValueLengthMax) {
          fail('INVALID_VALUE', `${path}.value is longer than ${ruleStringValueLengthMax} characters`);
        }
      } else if (typeof value !== 'boolean') finite(value, `${path}.value`);
    } else finite(value, `${path}.value`);
    return { field, op: op as CompareOp, value: value as Scalar };
  }
  if ((rangeOps as readonly unknown[]).includes(op)) {
    allowOnly(v, path, rangeClauseMembers);
    const min = finite(v.min, `${path}.min`);
    const max = finite(v.max, `${path}.max`);
    if (min > max) fail('INVALID_RANGE', `${path}: min (${min}) is greater than max (${max})`);
    return { field, op: op as RangeOp, min, max };
  }
  return fail(
    'UNKNOWN_OPERATOR',
    `${path}.op: unknown operator ${JSON.stringify(op)?.slice(0, 40)}; use one of ${[...compareOps, ...rangeOps].join(', ')}`,
  );
}

export function parseCondition(v: unknown, path: string): Condition {
  if (!isObj(v)) return fail('INVALID_RULE', `${path} must be {"all": [clauses]} or {"any": [clauses]}`);
  const keys = Object.keys(v);
  const mode = keys[0];
  if (keys.length !== 1 || (mode !== 'all' && mode !== 'any')) {
    return fail('INVALID_RULE', `${path} must have exactly one member, "all" or "any"`);
  }
  const list = v[mode];
  if (!Array.isArray(list) || list.length === 0 || list.length > ruleClausesMax) {
    return fail('INVALID_RULE', `${path}.${mode} must be a list of 1 to ${ruleClausesMax} clauses`);
  }
  const clauses = list.map((c, i) => parseClause(c, `${path}.${mode}[${i}]`));
  return mode === 'all' ? { all: clauses } : { any: clauses };
}

function parseFence(v: unknown, path: string): Fence {
  if (!isObj(v)) return fail('INVALID_RULE', `${path} must be an object {lat, lon, radius_m}`);
  allowOnly(v, path, fenceMembers);
  const lat = finiteCoordinate(v.lat, `${path}.lat`, latitudeDegreesMax);
  const lon = finiteCoordinate(v.lon, `${path}.lon`, longitudeDegreesMax);
  const radius = v.radius_m;
  if (typeof radius !== 'number' || !Number.isFinite(radius) || radius <= 0) {
    fail(
      'INVALID_RADIUS',
      `${path}.radius_m must be a number of metres greater than 0, got ${JSON.stringify(radius)}`,
    );
  }
  if ((radius as number) > radiusMetersMax) {
    fail(
      'INVALID_RADIUS',
      `${path}.radius_m must be at most ${radiusMetersMax} m (half the earth's circumference)`,
    );
  }
  return { lat, lon, radius_m: radius as number };
}

function finiteCoordinate(v: unknown, path: string, limit: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > limit) {
    return fail('INVALID_COORDINATE', `${path} must be a number from -${limit} to ${limit}`);
  }
  return v;
}

/** The members of a rule and its parts: the parser allows these, the API's JSON Schema is built from them. */
export const ruleCommonMembers = [
  'name',
  'description',
  'target_id',
  'kind',
  'severity',
  'enabled',
  'type',
] as const;
export const ruleSpecMembers = {
  threshold: ['condition', 'clear', 'for_s'],
  deadman: ['field', 'timeout_s'],
  geofence: ['fence', 'trigger', 'for_s'],
} as const satisfies Record<RuleType, readonly string[]>;
export const compareClauseMembers = ['field', 'op', 'value'] as const;
export const rangeClauseMembers = ['field', 'op', 'min', 'max'] as const;
export const fenceMembers = ['lat', 'lon', 'radius_m'] as const;

/** Validates a whole rule (POST and PUT bodies). */
export function parseRuleDefinition(body: unknown): RuleDefinition {
  if (!isObj(body)) return fail('INVALID_RULE', 'the rule must be a JSON object');
  const type = body.type;
  if (!(ruleTypes as readonly unknown[]).includes(type)) {
    return fail(
      'UNKNOWN_RULE_TYPE',
      `type: unknown rule type ${JSON.stringify(type)?.slice(0, 40)}; use one of ${ruleTypes.join(', ')}`,
    );
  }
  const ruleType = type as RuleType;
  allowOnly(body, 'rule', [...ruleCommonMembers, ...ruleSpecMembers[ruleType]]);
  const name = text(body, 'name', '', ruleNameLengthMax);
  if (name.trim() === '') fail('INVALID_RULE', 'name must not be empty');
  const description = text(body, 'description', '', ruleDescriptionLengthMax, '');
  const severity = body.severity ?? 'warning';
  if (!(severities as readonly unknown[]).includes(severity)) {
    fail(
      'UNKNOWN_SEVERITY',
      `severity: unknown ${JSON.stringify(severity)?.slice(0, 40)}; use one of ${severities.join(', ')}`,
    );
  }
  const enabled = body.enabled ?? true;
  if (typeof enabled !== 'boolean') fail('INVALID_RULE', 'enabled must be true or false');
  const { target_id: targetId, kind } = body;
  if (
    targetId !== undefined &&
    targetId !== null &&
    (typeof targetId !== 'string' || !uuidPattern.test(targetId))
  ) {
    fail('INVALID_SCOPE', 'target_id must be a UUID');
  }
  if (kind !== undefined && kind !== null && (typeof kind !== 'string' || !ruleKindPattern.test(kind))) {
    fail('INVALID_SCOPE', `kind must match ${ruleKindPattern.source}`);
  }
  if (targetId != null && kind != null) {
    fail('INVALID_SCOPE', 'give target_id (one target) or kind (every target of a kind), not both');
  }
  return {
    name,
    description,
    target_id: targetId == null ? null : (targetId as string).toLowerCase(),
    kind: (kind as string | null | undefined) ?? null,
    severity: severity as Severity,
    enabled: enabled as boolean,
    spec: parseSpec(ruleType, body),
  };
}

function parseSpec(type: RuleType, body: Obj): RuleSpec {
  switch (type) {
    case 'threshold':
      if (body.condition === undefined) fail('INVALID_RULE', 'a threshold rule needs a condition');
      return {
        type,
        condition: parseCondition(body.condition, 'condition'),
        clear: body.clear === undefined || body.clear === null ? null : parseCondition(body.clear, 'clear'),
        for_s: body.for_s === undefined ? 0 : duration(body.for_s, 'for_s', { zeroAllowed: true }),
      };
    case 'deadman':
      return {
        type,
        field: parseFieldPath(body.field, 'field'),
        timeout_s: duration(body.timeout_s, 'timeout_s', { zeroAllowed: false }),
      };
    case 'geofence': {
      const trigger = body.trigger;
      if (!(fenceTriggers as readonly unknown[]).includes(trigger)) {
        fail(
          'UNKNOWN_TRIGGER',
          `trigger: unknown ${JSON.stringify(trigger)?.slice(0, 40)}; use one of ${fenceTriggers.join(', ')}`,
        );
      }
      return {
        type,
        fence: parseFence(body.fence, 'fence'),
        trigger: trigger as FenceTrigger,
        for_s: body.for_s === undefined ? 0 : duration(body.for_s, 'for_s', { zeroAllowed: true }),
      };
    }
  }
}

/** The fields a rule reads from events (their last values are kept in its evaluation state). */
export function ruleFields(spec: RuleSpec): string[] {
  switch (spec.type) {
    case 'threshold': {
      const fields = clausesOf(spec.condition).map((c) => c.field);
      if (spec.clear) fields.push(...clausesOf(spec.clear).map((c) => c.field));
      return [...new Set(fields)];
    }
    case 'deadman':
      return [spec.field];
    case 'geofence':
      return ['lat', 'lon'];
  }
}

export function clausesOf(c: Condition): readonly Clause[] {
  return 'all' in c ? c.all : c.any;
}

/** Does the rule apply to a target of this kind? */
export function ruleCovers(
  rule: Pick<AlarmRule, 'targetId' | 'kind'>,
  targetId: string,
  kind: string,
): boolean {
  if (rule.targetId !== null) return rule.targetId === targetId;
  if (rule.kind !== null) return rule.kind === kind;
  return true;
}

/** A short human description of the raise condition (alarm reasons, logs). */
export function describeSpec(spec: RuleSpec): string {
  switch (spec.type) {
    case 'threshold':
      return `${describeCondition(spec.condition)}${spec.for_s > 0 ? ` for ${spec.for_s} s` : ''}`;
    case 'deadman':
      return `no data on ${spec.field} for ${spec.timeout_s} s`;
    case 'geofence': {
      const circle = `${spec.fence.radius_m} m around (${spec.fence.lat}, ${spec.fence.lon})`;
      const verb = { inside: 'inside', outside: 'outside', enter: 'entered', exit: 'left' }[spec.trigger];
      return `${verb} ${circle}${spec.for_s > 0 ? ` for ${spec.for_s} s` : ''}`;
    }
  }
}

export function describeCondition(c: Condition): string {
  const parts = clausesOf(c).map((cl) =>
    'value' in cl
      ? `${cl.field} ${cl.op} ${JSON.stringify(cl.value)}`
      : `${cl.field} ${cl.op} [${cl.min}, ${cl.max}]`,
  );
  return parts.join('all' in c ? ' and ' : ' or ');
}

/** The stored form of a definition: columns, and the type's members as `spec`. */
export function toStoredRule(def: RuleDefinition): {
  name: string;
  description: string;
  target_id: string | null;
  kind: string | null;
  severity: Severity;
  type: RuleType;
  spec: Record<string, unknown>;
  enabled: boolean;
} {
  const { type, ...spec } = def.spec;
  return { ...def, type, spec };
}

/** A stored rule (validated when it was stored) as the evaluation sees it. */
export function toAlarmRule(row: {
  readonly rule_id: string;
  readonly version: number;
  readonly name: string;
  readonly severity: string;
  readonly target_id: string | null;
  readonly kind: string | null;
  readonly type: string;
  readonly spec: Record<string, unknown>;
}): AlarmRule {
  return {
    ruleId: row.rule_id,
    version: row.version,
    name: row.name,
    severity: row.severity as Severity,
    targetId: row.target_id,
    kind: row.kind,
    spec: { ...row.spec, type: row.type } as unknown as RuleSpec,
  };
}

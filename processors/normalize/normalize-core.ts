// SPDX-License-Identifier: MIT
// normalize, pure core: mapping rules (rename, unit conversion, drop) applied to an event's data.
// A rule applies to events received at or after it was created (and before it was deleted), so
// replaying the stream reproduces exactly what was produced the first time.

export type RuleAction = 'rename' | 'convert' | 'drop' | 'map';

/** A `map` that did not apply because the event already held its canonical field (the first wins). */
export interface Clash {
  readonly rule: MappingRule;
  readonly field: string;
}

export interface MappingRule {
  readonly ruleId: string;
  readonly kind: string | null;
  readonly targetId: string | null;
  /** Dotted path of the field (`engine.temp`). */
  readonly field: string;
  readonly action: RuleAction;
  readonly toField: string | null;
  readonly scale: number | null;
  readonly offset: number | null;
  readonly position: number;
  readonly createdAtMicros: number;
  readonly deletedAtMicros: number | null;
  /** Who made it: `user` (default), `model`, `person` (an approved suggestion). */
  readonly source?: 'user' | 'model' | 'person';
  readonly fromUnit?: string | null;
  readonly toUnit?: string | null;
  /** The model's confidence, for its rules. */
  readonly confidence?: number | null;
  readonly modelVersion?: string | null;
}

export interface RuleScope {
  readonly kind: string;
  readonly targetId: string;
  readonly receivedAtMicros: number;
}

/** Rules in force for one event, in application order (position, then creation). */
export function rulesInForce(rules: readonly MappingRule[], scope: RuleScope): MappingRule[] {
  return rules
    .filter(
      (r) =>
        (r.kind === null || r.kind === scope.kind) &&
        (r.targetId === null || r.targetId === scope.targetId) &&
        r.createdAtMicros <= scope.receivedAtMicros &&
        (r.deletedAtMicros === null || scope.receivedAtMicros < r.deletedAtMicros),
    )
    .sort(
      (a, b) =>
        a.position - b.position ||
        a.createdAtMicros - b.createdAtMicros ||
        // Rules decided together (one triggering event) tie on both: their ids order them, the same on replay.
        (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0),
    );
}

/**
 * rulesInForce for many events: the rules of each (kind, target) are picked and ordered once, and an
 * event whose received_at every one of them covers (the usual case) gets that list itself.
 */
export function rulesForBatch(
  rules: readonly MappingRule[],
): (e: { kind: string; target_id: string; received_at: number }) => readonly MappingRule[] {
  const none: readonly MappingRule[] = [];
  if (rules.length === 0) return () => none;
  const candidates = new Map<string, readonly MappingRule[]>();
  const always = { createdAtMicros: Number.NEGATIVE_INFINITY, deletedAtMicros: null };
  // Events come in runs of one target (a message is one target's): the last list found is tried first.
  let last: { kind: string; targetId: string; list: readonly MappingRule[] } | undefined;
  const candidatesOf = (kind: string, targetId: string): readonly MappingRule[] => {
    if (last?.kind === kind && last.targetId === targetId) return last.list;
    const key = `${kind}\u0000${targetId}`;
    let list = candidates.get(key);
    if (list === undefined) {
      const byId = new Map(rules.map((r) => [r.ruleId, r]));
      const scope = { kind, targetId, receivedAtMicros: 0 };
      list = rulesInForce(
        rules.map((r) => ({ ...r, ...always })),
        scope,
      ).map((r) => byId.get(r.ruleId)!);
      candidates.set(key, list);
    }
    last = { kind, targetId, list };
    return list;
  };
  return (e) => {
    const list = candidatesOf(e.kind, e.target_id);
    const at = e.received_at;
    for (const r of list) if (!inForceAt(r, at)) return list.filter((q) => inForceAt(q, at));
    return list;
  };
}

/** Whether the rule was in force for an event received at `at` (µs). */
function inForceAt(rule: MappingRule, at: number): boolean {
  return rule.createdAtMicros <= at && (rule.deletedAtMicros === null || at < rule.deletedAtMicros);
}

/**
 * Applies rules in order to a copy of data. Rules whose field is absent do nothing. A `map` (rename +
 * convert, the normalizer's) never overwrites: when its canonical field is already there — written so
 * by the speaker, or mapped by an earlier rule — the field stays as written and `onClash` hears of it.
 */
export function applyRules(
  data: Record<string, unknown>,
  rules: readonly MappingRule[],
  onClash?: (clash: Clash) => void,
): Record<string, unknown> {
  // A shallow copy serves rules on top-level fields (the normalizer's); a nested path needs a deep one.
  const nestedPath = (path: string | null) => path?.includes('.') === true && !Object.hasOwn(data, path);
  const nested = rules.some((r) => nestedPath(r.field) || nestedPath(r.toField));
  let out = nested ? structuredClone(data) : { ...data };
  for (const rule of rules) {
    if (rule.action === 'map' && Object.hasOwn(out, rule.field) && Object.hasOwn(out, rule.toField!)) {
      onClash?.({ rule, field: rule.field });
      continue;
    }
    out = applyRule(out, rule);
  }
  return out;
}

function applyRule(data: Record<string, unknown>, rule: MappingRule): Record<string, unknown> {
  // A top-level field of exactly this name wins over a dotted path (`a.b` is a name before a path).
  const path = Object.hasOwn(data, rule.field) ? [rule.field] : rule.field.split('.');
  const found = getPath(data, path);
  if (!found.present) return data;
  switch (rule.action) {
    case 'drop':
      deletePath(data, path);
      return data;
    case 'rename':
      deletePath(data, path);
      setPath(data, pathOfTarget(data, rule.toField!), found.value);
      return data;
    case 'convert':
      // Only numbers convert; anything else is left as it came (the raw value is in raw_bucket anyway).
      if (typeof found.value === 'number') {
        setPath(data, path, roundConverted(found.value * (rule.scale ?? 1) + (rule.offset ?? 0)));
      }
      return data;
    case 'map': {
      deletePath(data, path);
      const value = found.value;
      const converted =
        typeof value === 'number' && (rule.scale !== 1 || rule.offset !== 0)
          ? roundConverted(value * (rule.scale ?? 1) + (rule.offset ?? 0))
          : value;
      data[rule.toField!] = converted; // canonical fields are top-level names
      return data;
    }
  }
}

/** Where a rename writes: a name without a dot, or one the data holds at top level, is a top-level field. */
function pathOfTarget(data: Record<string, unknown>, toField: string): string[] {
  return Object.hasOwn(data, toField) || !toField.includes('.') ? [toField] : toField.split('.');
}

/** Drops floating-point noise such as 98.60000000000001 from a conversion, keeping 12 significant digits. */
function roundConverted(value: number): number {
  return Number(value.toPrecision(12));
}

function getPath(
  data: Record<string, unknown>,
  path: readonly string[],
): { present: boolean; value?: unknown } {
  let node: unknown = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) {
      return { present: false };
    }
    node = (node as Record<string, unknown>)[key];
  }
  return { present: true, value: node };
}

function deletePath(data: Record<string, unknown>, path: readonly string[]): void {
  const parent = getPath(data, path.slice(0, -1));
  if (parent.present && parent.value && typeof parent.value === 'object') {
    delete (parent.value as Record<string, unknown>)[path[path.length - 1]!];
  }
}

function setPath(data: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = data;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Named unit conversions a rule may use instead of an explicit scale and offset: value·scale + offset. */
export const unitConversions: Readonly<Record<string, { scale: number; offset: number }>> = {
  'c->f': { scale: 9 / 5, offset: 32 },
  'f->c': { scale: 5 / 9, offset: (-32 * 5) / 9 },
  'c->k': { scale: 1, offset: 273.15 },
  'k->c': { scale: 1, offset: -273.15 },
  'm->km': { scale: 0.001, offset: 0 },
  'km->m': { scale: 1000, offset: 0 },
  'mi->km': { scale: 1.609344, offset: 0 },
  'km->mi': { scale: 1 / 1.609344, offset: 0 },
  'ft->m': { scale: 0.3048, offset: 0 },
  'm->ft': { scale: 1 / 0.3048, offset: 0 },
  'mph->kmh': { scale: 1.609344, offset: 0 },
  'kmh->mph': { scale: 1 / 1.609344, offset: 0 },
  'kmh->mps': { scale: 1 / 3.6, offset: 0 },
  'mps->kmh': { scale: 3.6, offset: 0 },
  'kn->kmh': { scale: 1.852, offset: 0 },
  'psi->kpa': { scale: 6.894757293168, offset: 0 },
  'kpa->psi': { scale: 1 / 6.894757293168, offset: 0 },
  'bar->kpa': { scale: 100, offset: 0 },
  'kpa->bar': { scale: 0.01, offset: 0 },
  'ms->s': { scale: 0.001, offset: 0 },
  's->ms': { scale: 1000, offset: 0 },
  'wh->kwh': { scale: 0.001, offset: 0 },
  'kwh->wh': { scale: 1000, offset: 0 },
};

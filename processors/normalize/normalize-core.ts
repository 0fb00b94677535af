// SPDX-License-Identifier: MIT
// normalize, pure core: mapping rules (rename, unit conversion, drop) applied to an event's data.
// A rule applies to events received at or after it was created (and before it was deleted), so
// replaying the stream reproduces exactly what was produced the first time.

export type RuleAction = 'rename' | 'convert' | 'drop';

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
    .sort((a, b) => a.position - b.position || a.createdAtMicros - b.createdAtMicros);
}

/** Applies rules in order to a copy of data. Rules whose field is absent do nothing. */
export function applyRules(
  data: Record<string, unknown>,
  rules: readonly MappingRule[],
): Record<string, unknown> {
  let out = structuredClone(data);
  for (const rule of rules) out = applyRule(out, rule);
  return out;
}

function applyRule(data: Record<string, unknown>, rule: MappingRule): Record<string, unknown> {
  const path = rule.field.split('.');
  const found = getPath(data, path);
  if (!found.present) return data;
  switch (rule.action) {
    case 'drop':
      deletePath(data, path);
      return data;
    case 'rename':
      deletePath(data, path);
      setPath(data, rule.toField!.split('.'), found.value);
      return data;
    case 'convert':
      // Only numbers convert; anything else is left as it came (the raw value is in raw_bucket anyway).
      if (typeof found.value === 'number') {
        setPath(data, path, roundConverted(found.value * (rule.scale ?? 1) + (rule.offset ?? 0)));
      }
      return data;
  }
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

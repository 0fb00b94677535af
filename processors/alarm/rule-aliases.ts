// SPDX-License-Identifier: MIT
// An alarm rule and the names the normalizer mapped: a rule written against `temp` keeps working once
// `temp` is `temperature` — at creation its fields resolve through the aliases known then, and for events
// the normalizer mapped later the stage reads the canonical field under the rule's name. Which rules
// mapped a field is decided per event by its received_at (rules in force), so a replay reads the same.
import type { AliasIndex, MappingRule } from '../normalize/index.js';
import type { Condition, RuleSpec } from './alarm-rule.js';

/** An alarm rule's fields resolved through the aliases of its kind; `resolved` lists what changed. */
export function resolveRuleFields(
  spec: RuleSpec,
  kind: string | null,
  aliases: AliasIndex,
): { spec: RuleSpec; resolved: Record<string, string> } {
  const resolved: Record<string, string> = {};
  const field = (name: string) => {
    const c = aliases.canonicalOf(kind, name);
    if (c === undefined) return name;
    resolved[name] = c;
    return c;
  };
  const condition = (c: Condition): Condition =>
    'all' in c
      ? { all: c.all.map((cl) => ({ ...cl, field: field(cl.field) })) }
      : { any: c.any.map((cl) => ({ ...cl, field: field(cl.field) })) };
  switch (spec.type) {
    case 'threshold':
      return {
        spec: { ...spec, condition: condition(spec.condition), clear: spec.clear && condition(spec.clear) },
        resolved,
      };
    case 'deadman':
      return { spec: { ...spec, field: field(spec.field) }, resolved };
    default:
      return { spec, resolved };
  }
}

/**
 * The event's data with the names mapping rules in force for it turned into canonical fields also readable
 * under their old names (for a `map` or `rename` whose canonical field the event holds and whose old name
 * it does not). The data itself when no rule renamed anything.
 */
export function withMappedNames(
  data: Readonly<Record<string, unknown>>,
  inForce: readonly MappingRule[],
): Readonly<Record<string, unknown>> {
  let out: Record<string, unknown> | undefined;
  for (const r of inForce) {
    if ((r.action !== 'map' && r.action !== 'rename') || r.toField === null) continue;
    if (Object.hasOwn(data, r.field) || !Object.hasOwn(data, r.toField)) continue;
    out ??= { ...data };
    if (!Object.hasOwn(out, r.field)) out[r.field] = data[r.toField];
  }
  return out ?? data;
}

// SPDX-License-Identifier: MIT
// POST /v1/normalize/preview: what each top-level field of a payload would become, written nowhere.
// Existing rules apply as the pipeline would apply them; a field decided before answers with its
// recorded decision; a new one is put to the model (the answer is not recorded).

import { decide, readPrediction } from './decide.js';
import type { FieldNormalizer } from './field-normalizer.js';
import { type MappingRule, rulesInForce } from './normalize-core.js';
import { conversionOf, convertValue } from './units.js';

export interface PreviewField {
  readonly field: string;
  readonly canonical: string | null;
  readonly from_unit: string | null;
  readonly to_unit: string | null;
  readonly value: unknown;
  readonly confidence: number;
  readonly decision: 'auto' | 'suggest' | 'keep';
  readonly reason: string;
}

export interface PreviewResult {
  readonly model: { readonly version: string; readonly sha256: string };
  readonly fields: PreviewField[];
}

export async function previewNormalize(
  normalizer: FieldNormalizer,
  kind: string,
  data: Readonly<Record<string, unknown>>,
  rules: readonly MappingRule[],
  nowMicros: number,
): Promise<PreviewResult> {
  const model = await normalizer.loadedModel();
  await normalizer.prepare([kind]);
  const inForce = rulesInForce(
    rules.filter((r) => r.targetId === null),
    { kind, targetId: '', receivedAtMicros: nowMicros },
  );
  const fields: PreviewField[] = [];
  for (const [field, value] of Object.entries(data)) {
    const rule = inForce.find((r) => r.field === field);
    fields.push(
      rule !== undefined
        ? byRule(field, value, rule)
        : (recorded(normalizer, kind, field, value) ?? (await asked(normalizer, kind, field, value, rules))),
    );
  }
  return {
    model: { version: model.metadata.version, sha256: model.metadata.sha256 },
    fields: withClashes(data, fields),
  };
}

/**
 * As the pipeline orders them: a field already holding a canonical name keeps it, then mapped fields
 * take their canonical field in order (rules first, then new fields as written); a later one clashes and
 * stays as written.
 */
function withClashes(
  data: Readonly<Record<string, unknown>>,
  fields: readonly PreviewField[],
): PreviewField[] {
  const taken = new Set(Object.keys(data));
  const byRule = (f: PreviewField) => f.reason.startsWith('mapped by') || f.reason.startsWith('renamed by');
  const order = [...fields.filter(byRule), ...fields.filter((f) => !byRule(f))];
  const out = new Map<PreviewField, PreviewField>();
  for (const f of order) {
    if (f.decision !== 'auto' || f.canonical === null || f.canonical === f.field) continue;
    if (taken.has(f.canonical)) {
      out.set(f, {
        ...f,
        canonical: null,
        from_unit: null,
        to_unit: null,
        value: data[f.field],
        decision: 'keep',
        reason: `'${f.canonical}' is already taken in this payload, so '${f.field}' stays as written (a clash suggestion is made)`,
      });
    } else {
      taken.add(f.canonical);
    }
  }
  return fields.map((f) => out.get(f) ?? f);
}

function byRule(field: string, value: unknown, rule: MappingRule): PreviewField {
  const by = `${rule.source ?? 'user'} rule ${rule.ruleId}${rule.modelVersion ? ` (model ${rule.modelVersion})` : ''}`;
  const converted =
    typeof value === 'number' && rule.scale !== null && rule.offset !== null
      ? convertValue(value, { scale: rule.scale, offset: rule.offset })
      : value;
  const base = {
    field,
    from_unit: rule.fromUnit ?? null,
    to_unit: rule.toUnit ?? null,
    confidence: rule.confidence ?? 1,
    decision: 'auto' as const,
  };
  switch (rule.action) {
    case 'map':
      return { ...base, canonical: rule.toField, value: converted, reason: `mapped by ${by}` };
    case 'rename':
      return { ...base, canonical: rule.toField, value, reason: `renamed by ${by}` };
    case 'convert':
      return { ...base, canonical: null, value: converted, reason: `converted by ${by}` };
    case 'drop':
      return { ...base, canonical: null, value: null, reason: `dropped by ${by}` };
  }
}

/** A field decided before: its recorded decision (a rule, if one applies, was handled before). */
function recorded(n: FieldNormalizer, kind: string, field: string, value: unknown): PreviewField | undefined {
  const d = n.decisionOf(kind, field);
  if (d === undefined) return undefined;
  const keep = {
    field,
    canonical: null,
    from_unit: null,
    to_unit: null,
    value,
    confidence: d.confidence ?? 1,
  };
  if (d.decision === 'suggest') {
    const conversion = d.from_unit && d.to_unit ? conversionOf(d.from_unit, d.to_unit) : undefined;
    return {
      ...keep,
      canonical: d.canonical,
      from_unit: d.from_unit,
      to_unit: d.to_unit,
      decision: 'suggest',
      reason: `suggested (decided ${d.model_version ? `by model ${d.model_version}` : ''}): ${d.reason}`,
      value: typeof value === 'number' && conversion ? convertValue(value, conversion) : value,
    };
  }
  if (d.decision === 'auto') return { ...keep, decision: 'keep', reason: "the model's mapping was deleted" };
  return { ...keep, decision: 'keep', reason: d.reason };
}

/** A field never seen: what the model would decide now (not recorded). */
async function asked(
  n: FieldNormalizer,
  kind: string,
  field: string,
  value: unknown,
  rules: readonly MappingRule[],
): Promise<PreviewField> {
  const known = n.judgeWithoutModel(kind, field, [value], rules);
  if (known !== undefined)
    return {
      field,
      canonical: null,
      from_unit: null,
      to_unit: null,
      value,
      confidence: 1,
      decision: 'keep',
      reason: known.reason,
    };
  const model = await n.loadedModel();
  const [probs] = await model.classify([{ kind, field, values: [value] }]);
  const p = readPrediction(field, [value], probs!, model.metadata.labels, n.vocabularyUnits());
  const d = decide(p, n.thresholds(), n.roleOf(kind));
  const mapped = d.decision !== 'keep';
  return {
    field,
    canonical: mapped ? d.canonical : null,
    from_unit: mapped ? d.fromUnit : null,
    to_unit: mapped ? d.toUnit : null,
    value: mapped && typeof value === 'number' && d.conversion ? convertValue(value, d.conversion) : value,
    confidence: Number(d.confidence.toFixed(4)),
    decision: d.decision,
    reason: d.reason,
  };
}

// SPDX-License-Identifier: MIT
// normalize, pure: how a field first seen for a kind is decided — by a person's rule, as already
// canonical, or by the model's probabilities read against the thresholds and the kind's model role.
import { tokensOf, unitAliases } from './features.js';
import { type Conversion, conversionOf, fractionUnit } from './units.js';

/** Per kind: `auto` applies confident mappings, `suggest` only suggests, `off` leaves names alone. */
export type ModelRole = 'auto' | 'suggest' | 'off';
export const modelRoles: readonly ModelRole[] = ['auto', 'suggest', 'off'];

export type DecisionKind = 'auto' | 'suggest' | 'keep';

export interface Thresholds {
  /** Confidence at or above which a mapping is applied without a person. */
  readonly autoMin: number;
  /** Confidence at or above which (and below autoMin) a mapping is suggested. */
  readonly suggestMin: number;
}

export interface Prediction {
  /** null: the model says the field is none of the vocabulary. */
  readonly canonical: string | null;
  readonly fromUnit: string | null;
  readonly toUnit: string | null;
  /** Summed probability of the canonical field over its units (or of `none`). */
  readonly confidence: number;
}

export interface FieldDecision extends Prediction {
  readonly decision: DecisionKind;
  readonly conversion: Conversion | null;
  readonly reason: string;
}

/**
 * The last unit the name spells, or undefined: read left to right, two neighbouring tokens glued
 * (`km`+`h`, `h`+`pa` of `hPa`) before one alone.
 */
export function unitInName(name: string): string | undefined {
  const tokens = tokensOf(name);
  let found: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const glued = i + 1 < tokens.length ? unitAliases[tokens[i]! + tokens[i + 1]!] : undefined;
    if (glued !== undefined) {
      found = glued;
      i++;
    } else {
      found = unitAliases[tokens[i]!] ?? found;
    }
  }
  return found;
}

/**
 * Reads one row of probabilities: the canonical field with the highest probability summed over its
 * units (ties: the first by name), then the unit the name spells if that field has it, else the
 * likeliest of its units. `vocabulary` (name → unit) drops fields no longer in the vocabulary.
 */
export function readPrediction(
  field: string,
  values: readonly unknown[],
  probs: ArrayLike<number>,
  labels: readonly string[],
  vocabulary: ReadonlyMap<string, string>,
): Prediction {
  const sums = new Map<string, number>();
  labels.forEach((label, i) => {
    const canonical = label.split('|')[0]!;
    if (canonical === 'none' || vocabulary.has(canonical))
      sums.set(canonical, (sums.get(canonical) ?? 0) + probs[i]!);
  });
  let best = 'none';
  let bestSum = -1;
  for (const [canonical, sum] of [...sums].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (sum > bestSum) [best, bestSum] = [canonical, sum];
  }
  if (best === 'none') return { canonical: null, fromUnit: null, toUnit: null, confidence: bestSum };
  const units = labels
    .map((label, i) => ({ unit: label.split('|')[1], p: probs[i]!, canonical: label.split('|')[0] }))
    .filter((u) => u.canonical === best && u.unit !== undefined);
  const spelt = unitInName(field);
  let fromUnit = units.find((u) => u.unit === spelt)?.unit;
  fromUnit ??= units.reduce((a, b) => (b.p > a.p ? b : a)).unit!;
  if (fromUnit === fractionUnit && !values.every((v) => typeof v !== 'number' || (v >= 0 && v <= 1))) {
    fromUnit = vocabulary.get(best)!; // a "fraction" above 1 is a percentage after all
  }
  return { canonical: best, fromUnit, toUnit: vocabulary.get(best)!, confidence: bestSum };
}

/** What becomes of a prediction under the thresholds and the kind's model role. */
export function decide(p: Prediction, thresholds: Thresholds, role: ModelRole): FieldDecision {
  const pct = `${(p.confidence * 100).toFixed(1)} %`;
  const keep = (reason: string): FieldDecision => ({ ...p, decision: 'keep', conversion: null, reason });
  if (role === 'off') return keep("the kind's model role is off: names stay as written");
  if (p.canonical === null) return keep(`the model says this is none of the vocabulary (${pct})`);
  const conversion = conversionOf(p.fromUnit!, p.toUnit!);
  const target = `${p.canonical}${p.fromUnit === p.toUnit ? '' : ` from ${p.fromUnit} to ${p.toUnit}`}`;
  if (conversion === undefined) {
    return {
      ...p,
      decision: 'suggest',
      conversion: null,
      reason: `no conversion from ${p.fromUnit} to ${p.toUnit}`,
    };
  }
  if (p.confidence >= thresholds.autoMin) {
    if (role === 'auto') return { ...p, decision: 'auto', conversion, reason: `model: ${target} (${pct})` };
    return {
      ...p,
      decision: 'suggest',
      conversion,
      reason: `model: ${target} (${pct}); the kind's role is suggest`,
    };
  }
  if (p.confidence >= thresholds.suggestMin) {
    return {
      ...p,
      decision: 'suggest',
      conversion,
      reason: `model: ${target} (${pct}), below the auto threshold`,
    };
  }
  return keep(`model: ${target} at ${pct}, below the suggestion threshold`);
}

/** Whether a value is one the model is asked about (top-level scalars; objects and arrays are kept). */
export function isScalarSample(value: unknown): boolean {
  return value === null || ['number', 'string', 'boolean'].includes(typeof value);
}

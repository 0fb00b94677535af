// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  applyRules,
  decide,
  defaultVocabulary,
  type MappingRule,
  readPrediction,
} from '../../../../processors/index.js';

const vocabulary = new Map(defaultVocabulary.map((v) => [v.name, v.unit]));
const labels = ['none', 'temperature|C', 'temperature|F', 'temperature|K', 'humidity|%', 'humidity|fraction'];
const thresholds = { autoMin: 0.8, suggestMin: 0.3 };

function probs(p: Record<string, number>): number[] {
  return labels.map((l) => p[l] ?? 0);
}

describe('readPrediction', () => {
  it.each<[string, string, unknown[], Record<string, number>, string | null, string | null, number]>([
    [
      'sums a field over its units',
      'temp',
      [20],
      { 'temperature|C': 0.5, 'temperature|F': 0.4, none: 0.1 },
      'temperature',
      'C',
      0.9,
    ],
    [
      'the unit the name spells wins',
      'tempF',
      [70],
      { 'temperature|C': 0.6, 'temperature|F': 0.3, none: 0.1 },
      'temperature',
      'F',
      0.9,
    ],
    ['none', 'serial_no', ['SN-1'], { none: 0.7, 'temperature|C': 0.3 }, null, null, 0.7],
    [
      'a fraction above 1 is a percentage',
      'hum',
      [45],
      { 'humidity|fraction': 0.6, 'humidity|%': 0.3 },
      'humidity',
      '%',
      0.9,
    ],
    [
      'a fraction within 0–1 stays one',
      'hum',
      [0.45],
      { 'humidity|fraction': 0.6, 'humidity|%': 0.3 },
      'humidity',
      'fraction',
      0.9,
    ],
  ])('%s', (_name, field, values, p, canonical, fromUnit, confidence) => {
    const r = readPrediction(field, values, probs(p), labels, vocabulary);
    expect(r.canonical).toBe(canonical);
    expect(r.fromUnit).toBe(fromUnit);
    expect(r.confidence).toBeCloseTo(confidence, 6);
  });

  it('drops fields no longer in the vocabulary', () => {
    const without = new Map(vocabulary);
    without.delete('temperature');
    expect(
      readPrediction('temp', [20], probs({ 'temperature|C': 0.9, none: 0.1 }), labels, without).canonical,
    ).toBeNull();
  });
});

describe('decide', () => {
  const p = (confidence: number) => ({ canonical: 'temperature', fromUnit: 'F', toUnit: 'C', confidence });
  it.each<[string, number, 'auto' | 'suggest' | 'off', string]>([
    ['confident, role auto', 0.95, 'auto', 'auto'],
    ['at the auto threshold', 0.8, 'auto', 'auto'],
    ['confident, role suggest', 0.95, 'suggest', 'suggest'],
    ['between the thresholds', 0.5, 'auto', 'suggest'],
    ['below the suggestion threshold', 0.2, 'auto', 'keep'],
    ['role off', 0.99, 'off', 'keep'],
  ])('%s → %s', (_name, confidence, role, decision) => {
    expect(decide(p(confidence), thresholds, role).decision).toBe(decision);
  });

  it('an auto decision carries the conversion', () => {
    const d = decide(p(0.9), thresholds, 'auto');
    expect(d.conversion!.scale).toBeCloseTo(5 / 9);
    expect(d.reason).toMatch(/temperature from F to C \(90\.0 %\)/);
  });

  it('a unit without a conversion is only suggested', () => {
    const d = decide(
      { canonical: 'temperature', fromUnit: 'hPa', toUnit: 'C', confidence: 0.99 },
      thresholds,
      'auto',
    );
    expect(d.decision).toBe('suggest');
  });
});

describe('applyRules: map', () => {
  const map = (
    field: string,
    toField: string,
    createdAtMicros: number,
    scale = 1,
    offset = 0,
  ): MappingRule => ({
    ruleId: field,
    kind: null,
    targetId: null,
    field,
    action: 'map',
    toField,
    scale,
    offset,
    position: 0,
    createdAtMicros,
    deletedAtMicros: null,
  });
  it.each<[string, Record<string, unknown>, MappingRule[], Record<string, unknown>, string[]]>([
    [
      'renames and converts',
      { tempF: 212 },
      [map('tempF', 'temperature', 1, 5 / 9, -160 / 9)],
      { temperature: 100 },
      [],
    ],
    ['strings pass unconverted', { s: 'ok' }, [map('s', 'status', 1, 1, 0)], { status: 'ok' }, []],
    [
      'a field already canonical wins',
      { temperature: 20, tempF: 70 },
      [map('tempF', 'temperature', 1, 5 / 9, -160 / 9)],
      { temperature: 20, tempF: 70 },
      ['tempF'],
    ],
    [
      'the earlier rule wins',
      { tempF: 68, 온도: 21 },
      [map('tempF', 'temperature', 1, 5 / 9, -160 / 9), map('온도', 'temperature', 2)],
      { temperature: 20, 온도: 21 },
      ['온도'],
    ],
    [
      'a name with a dot is a name',
      { 'a.b': 1, a: { b: 2 } },
      [map('a.b', 'x', 1)],
      { x: 1, a: { b: 2 } },
      [],
    ],
  ])('%s', (_name, data, rules, out, clashed) => {
    const clashes: string[] = [];
    expect(applyRules(data, rules, (c) => clashes.push(c.field))).toEqual(out);
    expect(clashes).toEqual(clashed);
  });
});

// SPDX-License-Identifier: MIT
// Feature extraction: the cases in models/normalizer/feature-cases.json, which the Python twin used in
// training (models/normalizer/features.py) must reproduce too — checked here by running it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  activeFeatures,
  featureCount,
  featureVector,
  featureVersion,
  fnv1a32,
  tokensOf,
  valueSlots,
} from '../../../../processors/normalize/features.js';

interface Cases {
  version: string;
  featureCount: number;
  cases: { kind: string; name: string; values: unknown[]; tokens: string[]; active: number[] }[];
  hashes: { text: string; fnv1a32: number }[];
}
const fixture = 'models/normalizer/feature-cases.json';
const shared = JSON.parse(readFileSync(fixture, 'utf8')) as Cases;

describe('features: the shared cases (Python wrote them)', () => {
  it('are of this feature version and size', () => {
    expect(shared.version).toBe(featureVersion);
    expect(shared.featureCount).toBe(featureCount);
  });
  it.each(shared.cases)('$name', (c) => {
    expect(tokensOf(c.name)).toEqual(c.tokens);
    expect(activeFeatures(c.kind, c.name, c.values)).toEqual(c.active);
  });
  it.each(shared.hashes)('fnv1a32($text)', (h) => {
    expect(fnv1a32(h.text)).toBe(h.fnv1a32);
  });
  it('are reproduced by the Python twin used in training', () => {
    const python = '.venv/bin/python';
    expect(existsSync(python), 'run `npm run setup` (it creates .venv/)').toBe(true);
    const out = execFileSync(python, ['models/normalizer/features.py', '--check', fixture], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/, 0 mismatches/);
  });
});

describe('tokensOf', () => {
  it.each<[string, string[]]>([
    ['tempF', ['temp', 'f']],
    ['TempF', ['temp', 'f']],
    ['HTTPServer', ['http', 'server']],
    ['outdoor_air_temp', ['outdoor', 'air', 'temp']],
    ['sensor.temperature', ['sensor', 'temperature']],
    ['wind-speed', ['wind', 'speed']],
    ['Temp (°C)', ['temp', '°', 'c']],
    ['Temp ℃', ['temp', '°', 'c']],
    ['humidity%', ['humidity', '%']],
    ['온도', ['온도']],
    ['실내온도C', ['실내온도', 'c']],
    ['pm25Value', ['pm25', 'value']],
    ['CO2', ['co2']],
    ['[kPa]pressure', ['k', 'pa', 'pressure']],
    ['__', []],
  ])('%j → %j', (name, tokens) => {
    expect(tokensOf(name)).toEqual(tokens);
  });
});

describe('valueSlots', () => {
  it.each<[string, unknown[], number[]]>([
    ['nothing', [], [0]],
    ['only nulls', [null, null], [0]],
    ['booleans', [true, false], [2]],
    ['latitudes', [37.5665, 37.5671], [1, 7, 8, 10, 14, 22, 23]],
    ['0/1 integers', [0, 1, 1], [1, 5, 6, 7, 8, 10, 11, 13, 22]],
    ['kelvins', [293.15, 294], [1, 15, 20, 22]],
    ['hectopascals', [1013, 1012], [1, 5, 16, 21]],
    ['a constant', [5, 5], [1, 5, 7, 8, 10, 13, 19, 22]],
    ['negatives', [-70, -65], [1, 5, 7, 8, 9, 14]],
    ['numeric strings', ['1', '2.5'], [3, 24, 25]],
    ['an IP', ['10.0.0.1'], [3, 25, 27]],
    ['a serial', ['SN-12345'], [3, 25, 28]],
    ['status words', ['ok', 'idle'], [3, 25, 29]],
    ['open/closed', ['open', 'closed'], [3, 25, 26, 29]],
    ['mixed', [1, 'a'], [4]],
  ])('%s', (_name, values, slots) => {
    expect(valueSlots(values)).toEqual(slots);
  });
});

it('a vector holds ones at the active features and zeros elsewhere', () => {
  const v = featureVector('weather', '온도', [21]);
  const active = activeFeatures('weather', '온도', [21]);
  expect(v).toHaveLength(featureCount);
  expect([...v.keys()].filter((i) => v[i] === 1)).toEqual(active);
  expect(v.reduce((a, b) => a + b, 0)).toBe(active.length);
});

// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { withMappedNames } from '../../../../processors/alarm/rule-aliases.js';
import type { MappingRule } from '../../../../processors/normalize/index.js';

function rule(action: MappingRule['action'], field: string, toField: string | null): MappingRule {
  return {
    ruleId: `${action}-${field}`,
    kind: null,
    targetId: null,
    field,
    action,
    toField,
    scale: null,
    offset: null,
    position: 0,
    createdAtMicros: 0,
    deletedAtMicros: null,
  };
}

describe('withMappedNames', () => {
  it.each([
    ['no rule: the data itself', { temperature: 20 }, [], { temperature: 20 }],
    [
      'a map: the canonical value under the old name too',
      { temperature: 20 },
      [rule('map', 'tempF', 'temperature')],
      { temperature: 20, tempF: 20 },
    ],
    ['a rename, likewise', { speed: 3 }, [rule('rename', 'spd', 'speed')], { speed: 3, spd: 3 }],
    [
      'the old name still written (a clash): kept as written',
      { temperature: 20, tempF: 70 },
      [rule('map', 'tempF', 'temperature')],
      { temperature: 20, tempF: 70 },
    ],
    [
      'canonical field absent: nothing to read',
      { note: 'x' },
      [rule('map', 'tempF', 'temperature')],
      { note: 'x' },
    ],
    [
      'convert and drop rename nothing',
      { temperature: 20 },
      [rule('convert', 'temperature', null), rule('drop', 'x', null)],
      { temperature: 20 },
    ],
    [
      'two old names of one field: both read it',
      { temperature: 20 },
      [rule('map', 'tempF', 'temperature'), rule('map', '온도', 'temperature')],
      { temperature: 20, tempF: 20, 온도: 20 },
    ],
  ] as const)('%s', (_, data, rules, expected) => {
    expect(withMappedNames(data, rules as readonly MappingRule[])).toEqual(expected);
  });

  it('returns the same object when nothing is added (no copy per event)', () => {
    const data = { temperature: 20 };
    expect(withMappedNames(data, [])).toBe(data);
    expect(withMappedNames(data, [rule('drop', 'x', null)])).toBe(data);
  });

  it('never changes the data it is given', () => {
    const data = { temperature: 20 };
    withMappedNames(data, [rule('map', 'tempF', 'temperature')]);
    expect(data).toEqual({ temperature: 20 });
  });
});

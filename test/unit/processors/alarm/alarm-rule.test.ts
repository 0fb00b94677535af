// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { AlarmRuleInvalidError, parseRuleDefinition } from '../../../../processors/index.js';

const threshold = {
  name: 'hot',
  type: 'threshold',
  condition: { all: [{ field: 'temp', op: '>', value: 90 }] },
};
const deadman = { name: 'silent', type: 'deadman', field: 'temp', timeout_s: 60 };
const geofence = {
  name: 'yard',
  type: 'geofence',
  fence: { lat: 37.5, lon: 127, radius_m: 500 },
  trigger: 'exit',
};

function codeOf(body: unknown): string {
  try {
    parseRuleDefinition(body);
    return 'OK';
  } catch (err) {
    if (err instanceof AlarmRuleInvalidError) return err.code;
    throw err;
  }
}

describe('parseRuleDefinition', () => {
  it('accepts the three types with their defaults', () => {
    expect(parseRuleDefinition(threshold)).toEqual({
      name: 'hot',
      description: '',
      target_id: null,
      kind: null,
      severity: 'warning',
      enabled: true,
      spec: { type: 'threshold', condition: threshold.condition, clear: null, for_s: 0 },
    });
    expect(parseRuleDefinition({ ...deadman, kind: 'truck', severity: 'critical' }).spec).toEqual({
      type: 'deadman',
      field: 'temp',
      timeout_s: 60,
    });
    expect(parseRuleDefinition(geofence).spec).toEqual({
      type: 'geofence',
      fence: geofence.fence,
      trigger: 'exit',
      for_s: 0,
    });
  });

  const long = 'x'.repeat(129);
  const cases: [string, unknown, string][] = [
    ['every operator', { ...threshold, condition: { any: ops() } }, 'OK'],
    [
      'between and outside',
      { ...threshold, condition: { all: [{ field: 'a', op: 'between', min: 1, max: 2 }] } },
      'OK',
    ],
    [
      '== on a string',
      { ...threshold, condition: { all: [{ field: 'mode', op: '==', value: 'idle' }] } },
      'OK',
    ],
    ['== on a boolean', { ...threshold, condition: { all: [{ field: 'on', op: '!=', value: true }] } }, 'OK'],
    [
      'a nested field',
      { ...threshold, condition: { all: [{ field: 'engine.temp', op: '>', value: 1 }] } },
      'OK',
    ],
    ['a 64-character field name', { ...deadman, field: 'x'.repeat(64) }, 'OK'],
    [
      'hysteresis and for',
      { ...threshold, clear: { all: [{ field: 'temp', op: '<', value: 80 }] }, for_s: 30 },
      'OK',
    ],
    [
      'unknown operator',
      { ...threshold, condition: { all: [{ field: 'temp', op: '=~', value: 1 }] } },
      'UNKNOWN_OPERATOR',
    ],
    ['no operator', { ...threshold, condition: { all: [{ field: 'temp', value: 1 }] } }, 'UNKNOWN_OPERATOR'],
    ['negative for_s', { ...threshold, for_s: -1 }, 'NEGATIVE_DURATION'],
    ['negative timeout_s', { ...deadman, timeout_s: -5 }, 'NEGATIVE_DURATION'],
    ['zero timeout_s', { ...deadman, timeout_s: 0 }, 'INVALID_DURATION'],
    ['for_s over 30 days', { ...threshold, for_s: 31 * 86_400 }, 'INVALID_DURATION'],
    ['for_s a string', { ...threshold, for_s: '10' }, 'INVALID_DURATION'],
    ['radius 0', { ...geofence, fence: { lat: 1, lon: 1, radius_m: 0 } }, 'INVALID_RADIUS'],
    ['radius negative', { ...geofence, fence: { lat: 1, lon: 1, radius_m: -3 } }, 'INVALID_RADIUS'],
    [
      'radius beyond half the earth',
      { ...geofence, fence: { lat: 1, lon: 1, radius_m: 3e7 } },
      'INVALID_RADIUS',
    ],
    ['fence latitude 91', { ...geofence, fence: { lat: 91, lon: 1, radius_m: 5 } }, 'INVALID_COORDINATE'],
    ['field name over 128', { ...deadman, field: long }, 'FIELD_NAME_TOO_LONG'],
    ['nested path over 128', { ...deadman, field: `a.${long}` }, 'FIELD_NAME_TOO_LONG'],
    [
      'clause field over 128',
      { ...threshold, condition: { all: [{ field: long, op: '>', value: 1 }] } },
      'FIELD_NAME_TOO_LONG',
    ],
    ['field with a newline', { ...deadman, field: 'a\nb' }, 'INVALID_FIELD_NAME'],
    ['field empty', { ...deadman, field: '' }, 'INVALID_FIELD_NAME'],
    ['field with NUL', { ...deadman, field: 'a\u0000' }, 'INVALID_FIELD_NAME'],
    ['unknown type', { ...threshold, type: 'magic' }, 'UNKNOWN_RULE_TYPE'],
    ['unknown severity', { ...threshold, severity: 'apocalyptic' }, 'UNKNOWN_SEVERITY'],
    ['unknown trigger', { ...geofence, trigger: 'hover' }, 'UNKNOWN_TRIGGER'],
    [
      'both target and kind',
      { ...threshold, target_id: '0190f3c4-0000-7000-8000-000000000001', kind: 'x' },
      'INVALID_SCOPE',
    ],
    ['a bad kind', { ...threshold, kind: '9lives' }, 'INVALID_SCOPE'],
    ['no condition', { name: 'x', type: 'threshold' }, 'INVALID_RULE'],
    ['empty all', { ...threshold, condition: { all: [] } }, 'INVALID_RULE'],
    ['all and any at once', { ...threshold, condition: { all: ops(), any: ops() } }, 'INVALID_RULE'],
    ['17 clauses', { ...threshold, condition: { all: Array(17).fill(ops()[0]) } }, 'INVALID_RULE'],
    [
      'between min > max',
      { ...threshold, condition: { all: [{ field: 'a', op: 'between', min: 3, max: 2 }] } },
      'INVALID_RANGE',
    ],
    [
      '> on a string',
      { ...threshold, condition: { all: [{ field: 'a', op: '>', value: 'x' }] } },
      'INVALID_VALUE',
    ],
    ['a member of another type', { ...deadman, condition: threshold.condition }, 'INVALID_RULE'],
    ['no name', { ...threshold, name: '  ' }, 'INVALID_RULE'],
    ['not an object', [threshold], 'INVALID_RULE'],
  ];
  it.each(cases)('%s → %s', (_name, body, want) => {
    expect(codeOf(body)).toBe(want);
  });

  it('names the member and the rule it broke', () => {
    expect(() =>
      parseRuleDefinition({ ...threshold, condition: { all: [{ field: 't', op: '=~', value: 1 }] } }),
    ).toThrow(
      /condition\.all\[0\]\.op: unknown operator "=~"; use one of >, >=, <, <=, ==, !=, between, outside/,
    );
    expect(() => parseRuleDefinition({ ...deadman, timeout_s: -5 })).toThrow(
      /timeout_s must not be negative, got -5/,
    );
    expect(() => parseRuleDefinition({ ...deadman, field: 'x'.repeat(129) })).toThrow(
      /has 129 characters; at most 128/,
    );
  });
});

function ops() {
  return [
    { field: 'a', op: '>', value: 1 },
    { field: 'a', op: '>=', value: 1 },
    { field: 'a', op: '<', value: 1 },
    { field: 'a', op: '<=', value: 1 },
    { field: 'a', op: '==', value: 1 },
    { field: 'a', op: '!=', value: 1 },
    { field: 'a', op: 'between', min: 1, max: 2 },
    { field: 'a', op: 'outside', min: 1, max: 2 },
  ];
}

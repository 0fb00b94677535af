// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { InvalidTimestampError, microsToIso, parseTimestampMicros } from '../../schemas/index.js';

describe('parseTimestampMicros', () => {
  const ok: [unknown, string][] = [
    ['2026-11-22T10:00:00Z', '2026-11-22T10:00:00.000000Z'],
    ['2026-11-22T10:00:00.123456Z', '2026-11-22T10:00:00.123456Z'],
    ['2026-11-22T10:00:00.1234567Z', '2026-11-22T10:00:00.123456Z'],
    ['2026-11-22T19:00:00+09:00', '2026-11-22T10:00:00.000000Z'],
    ['2026-11-22T05:30:00-0430', '2026-11-22T10:00:00.000000Z'],
    ['2026-11-22 10:00Z', '2026-11-22T10:00:00.000000Z'],
    [1_795_000_000_000, '2026-11-18T11:06:40.000000Z'],
    [1_795_000_000_000.5, '2026-11-18T11:06:40.000500Z'],
    [0, '1970-01-01T00:00:00.000000Z'],
  ];
  it.each(ok)('%s → %s', (input, iso) => {
    expect(microsToIso(parseTimestampMicros(input))).toBe(iso);
  });

  const bad: [unknown, RegExp][] = [
    ['yesterday', /ISO-8601/],
    ['2026-11-22T10:00:00', /ISO-8601/],
    ['2026-02-30T00:00:00Z', /calendar/],
    ['2026-11-22T25:00:00Z', /calendar/],
    [Number.NaN, /finite/],
    [true, /epoch milliseconds/],
    [null, /epoch milliseconds/],
    [-1, /1970/],
    ['2300-01-01T00:00:00Z', /2200/],
  ];
  it.each(bad)('%s is refused', (input, message) => {
    expect(() => parseTimestampMicros(input)).toThrow(InvalidTimestampError);
    expect(() => parseTimestampMicros(input)).toThrow(message);
  });
});

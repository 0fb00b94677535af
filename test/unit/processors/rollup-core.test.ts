// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { addDecimal, DecimalSum, decimalOf, decimalText } from '../../../processors/decimal-sum.js';
import { rollupCells } from '../../../processors/rollup-core.js';
import type { ObsRow } from '../../../projections/index.js';

const target = '0190f000-0000-7000-8000-000000000001';
const other = '0190f000-0000-7000-8000-000000000002';
const minuteUs = 60_000_000;
const t0 = Date.UTC(2026, 10, 25, 10, 0, 0) * 1000;

function row(tsUs: number, eventId: string, payload: Record<string, unknown>, targetId = target): ObsRow {
  return { target_id: targetId, ts_us: tsUs, event_id: eventId, schema_id: 1, payload, received_us: tsUs };
}
const ev = (n: number) => `0190f000-0000-7000-8000-${String(n).padStart(12, '0')}`;

describe('exact decimal sums', () => {
  it.each([
    // values → the sum PostgreSQL's numeric gets for the same JSON numbers
    [[0.1, 0.2], '0.3'],
    [[1.5, 1.5], '3.0'],
    [[1, 2, 3], '6'],
    [[1e21, 1], '1000000000000000000001'],
    [[1.5e-7, 1], '1.00000015'],
    [[-0.25, 0.05], '-0.20'],
    [[2 ** 53 + 2, 1], '9007199254740995'],
    [[-0], '0'],
    [[5e-324], `0.${'0'.repeat(323)}5`],
    [[0.1, 2 ** 53 - 1, 0.2], '9007199254740991.3'],
    [[123.456, -1e-7, 1e300], `1${'0'.repeat(297)}123.4559999`],
    [[0.30000000000000004, 0.1], '0.40000000000000004'],
  ])('%j sums to %s', (values, expected) => {
    const exact = values.map(decimalOf).reduce((a, b) => addDecimal(a, b));
    expect(decimalText(exact)).toBe(expected);
    const fast = new DecimalSum();
    for (const v of values) fast.add(v);
    expect(decimalText(fast.value())).toBe(expected);
  });

  it('refuses a non-finite number', () => {
    expect(() => decimalOf(Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });
});

describe('rollupCells', () => {
  it('folds a batch into one cell per width, target, field and bucket, sorted', () => {
    const cells = rollupCells([
      row(t0 + 5_000_000, ev(2), { temp: 20, mode: 'a' }),
      row(t0 + 1_000_000, ev(1), { temp: 25 }),
      row(t0 + minuteUs, ev(3), { temp: 19 }),
      row(t0, ev(4), { temp: 7 }, other),
    ]);
    const minute = cells.get(60)!;
    expect(
      minute.map((c) => [
        c.target_id === target ? 't' : 'o',
        c.field,
        (c.bucket_us - t0) / minuteUs,
        c.count,
      ]),
    ).toEqual([
      ['t', 'mode', 0, 1],
      ['t', 'temp', 0, 2],
      ['t', 'temp', 1, 1],
      ['o', 'temp', 0, 1],
    ]);
    const hour = cells.get(3600)!;
    expect(hour.filter((c) => c.target_id === target && c.field === 'temp')).toMatchObject([
      { count: 3, num_count: 3, sum: '64', min: 19, max: 25, first_value: 25, last_value: 19 },
    ]);
  });

  it.each<[string, ObsRow[], Record<string, unknown>]>([
    [
      'first and last by time, not by arrival (a late event)',
      [
        row(t0 + 30, ev(1), { x: 'late?' }),
        row(t0 + 10, ev(2), { x: 'early' }),
        row(t0 + 50, ev(3), { x: 'last' }),
      ],
      {
        first_value: 'early',
        first_us: t0 + 10,
        last_value: 'last',
        last_us: t0 + 50,
        count: 3,
        num_count: 0,
        sum: null,
        min: null,
      },
    ],
    [
      'ties on time go by event id (uuid order)',
      [row(t0, ev(9), { x: 'nine' }), row(t0, ev(3), { x: 'three' }), row(t0, ev(5), { x: 'five' })],
      { first_value: 'three', first_event: ev(3), last_value: 'nine', last_event: ev(9) },
    ],
    [
      'min and max keep the earliest time they were seen',
      [
        row(t0 + 3, ev(1), { x: 1 }),
        row(t0 + 1, ev(2), { x: 1 }),
        row(t0 + 2, ev(3), { x: 9 }),
        row(t0 + 0, ev(4), { x: 9 }),
      ],
      { min: 1, min_us: t0 + 1, max: 9, max_us: t0, sum: '20', num_count: 4 },
    ],
    [
      'only numbers feed sum, min and max; every present value counts',
      [
        row(t0, ev(1), { x: 'a' }),
        row(t0 + 1, ev(2), { x: 2.5 }),
        row(t0 + 2, ev(3), { x: null }),
        row(t0 + 3, ev(4), { x: true }),
      ],
      { count: 4, num_count: 1, sum: '2.5', min: 2.5, max: 2.5, last_value: true },
    ],
    [
      'non-finite numbers are stored as JSON writes them (null) and are not numbers',
      [row(t0, ev(1), { x: Number.NaN }), row(t0 + 1, ev(2), { x: Number.POSITIVE_INFINITY })],
      { count: 2, num_count: 0, first_value: null, last_value: null, sum: null },
    ],
    [
      'an undefined value is left out, as JSON leaves it out',
      [row(t0, ev(1), { x: undefined }), row(t0 + 1, ev(2), { x: 4 })],
      { count: 1, first_value: 4 },
    ],
  ])('%s', (_name, rows, expected) => {
    const cells = rollupCells(rows).get(60)!;
    expect(cells).toHaveLength(1);
    expect(cells[0]).toMatchObject(expected);
  });

  it('an observation before the epoch lands in its own minute', () => {
    const [cell] = rollupCells([row(-1, ev(1), { x: 1 })]).get(60)!;
    expect(cell!.bucket_us).toBe(-minuteUs);
  });

  it('nothing in, nothing out', () => {
    expect([...rollupCells([]).values()]).toEqual([[], []]);
  });
});

// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { columnPlan, downsampleMinMax, type SeriesPoint } from '../../../projections/downsample.js';

const pts = (...pairs: [number, number][]): SeriesPoint[] => pairs.map(([t, v]) => ({ t, v }));

describe('columnPlan', () => {
  it.each([
    // from, to, points → columns, width µs
    [0, 100, 2, 1, 100],
    [0, 100, 3, 1, 100],
    [0, 100, 4, 2, 50],
    [0, 101, 4, 2, 51],
    [0, 3, 10, 5, 1],
    [0, 59_000_000, 4, 2, 29_500_000],
  ])('[%d, %d) for %d points: %d columns of %d µs from `from`', (from, to, points, columns, width) => {
    expect(columnPlan(from, to, points)).toEqual({ columns, widthMicros: width, originMicros: from });
  });

  const day = 86_400_000_000;
  const grid = Date.UTC(2000, 0, 1) * 1000;
  it.each([
    // from, to, points → width µs, rollup seconds: columns of a minute or more snap to the grid
    ['a day, 2,000 points (86.5 s → 2 min)', 0, day, 2000, 120_000_000, 60],
    ['a week, 2,732 points (443 s → 8 min)', 0, 7 * day, 2732, 480_000_000, 60],
    ['exactly a minute per column', 0, 60_000_000 * 9, 20, 60_000_000, 60],
    ['a year, 2,000 points (→ 9 h)', 0, 365 * day, 2000, 9 * 3_600_000_000, 3600],
    ['4 points over two minutes', 0, 120_000_000, 4, 120_000_000, 60],
  ])('%s', (_name, from, to, points, width, rollup) => {
    const plan = columnPlan(from, to, points);
    expect(plan).toEqual({
      columns: Math.floor(points / 2),
      widthMicros: width,
      originMicros: grid,
      rollupSeconds: rollup,
    });
    // However the range sits on the grid, it touches at most `columns` columns.
    for (const shift of [0, 1, 59_999_999, 3_599_999_999]) {
      const first = Math.floor((from + shift - grid) / width);
      const last = Math.floor((to + shift - 1 - grid) / width);
      expect(last - first + 1).toBeLessThanOrEqual(plan.columns);
    }
  });

  it.each([
    [0, 100, 1, /points must be an integer from 2/],
    [0, 100, 10_001, /points must be an integer/],
    [0, 100, 2.5, /points must be an integer/],
    [100, 100, 4, /range must not be empty/],
    [100, 0, 4, /range must not be empty/],
  ])('[%d, %d) for %d points is refused', (from, to, points, message) => {
    expect(() => columnPlan(from, to, points)).toThrow(message);
  });
});

describe('downsampleMinMax', () => {
  it.each<[string, SeriesPoint[], number, number, number, SeriesPoint[]]>([
    ['no data', [], 0, 100, 4, []],
    ['one point', pts([5, 1]), 0, 100, 4, pts([5, 1])],
    ['fewer points than columns keep all', pts([10, 3], [60, 4]), 0, 100, 4, pts([10, 3], [60, 4])],
    [
      'a column keeps its min and max in time order',
      pts([1, 5], [2, 9], [3, 1], [4, 5]),
      0,
      10,
      2,
      pts([2, 9], [3, 1]),
    ],
    ['min before max', pts([1, 0], [2, 4], [3, 9]), 0, 10, 2, pts([1, 0], [3, 9])],
    ['a flat column gives one point, the earliest', pts([1, 7], [2, 7], [3, 7]), 0, 10, 2, pts([1, 7])],
    ['ties keep the earliest', pts([1, 2], [2, 8], [3, 2], [4, 8]), 0, 10, 2, pts([1, 2], [2, 8])],
    [
      'each column on its own',
      pts([0, 1], [1, 3], [2, 2], [5, 9], [6, 0], [9, 4]),
      0,
      10,
      4,
      pts([0, 1], [1, 3], [5, 9], [6, 0]),
    ],
    ['unsorted input', pts([3, 1], [1, 5], [2, 9]), 0, 10, 2, pts([2, 9], [3, 1])],
    ['outside [from, to) ignored', pts([-1, 100], [0, 1], [9, 2], [10, -100]), 0, 10, 2, pts([0, 1], [9, 2])],
    [
      'non-finite values ignored',
      pts([1, Number.NaN], [2, Number.POSITIVE_INFINITY], [3, 4]),
      0,
      10,
      2,
      pts([3, 4]),
    ],
    ['negative values', pts([1, -3], [2, -1], [3, -2]), 0, 10, 2, pts([1, -3], [2, -1])],
    ['a spike survives', pts([1, 0], [2, 0], [3, 1000], [4, 0], [5, 0]), 0, 10, 2, pts([1, 0], [3, 1000])],
  ])('%s', (_name, series, from, to, points, expected) => {
    expect(downsampleMinMax(series, from, to, points)).toEqual(expected);
  });

  it('never returns more points than asked, and keeps the global extremes', () => {
    const day = Array.from({ length: 86_400 }, (_, i) => ({
      t: i * 1_000_000,
      v: Math.sin(i / 500) * 10 + (i === 40_000 ? 50 : 0),
    }));
    const out = downsampleMinMax(day, 0, 86_400_000_000, 2000);
    expect(out.length).toBeLessThanOrEqual(2000);
    // 86.4 s columns snap to 2 minutes (rollup-backed): 720 columns, two points each.
    expect(out.length).toBeGreaterThan(1400);
    expect(Math.max(...out.map((p) => p.v))).toBe(Math.max(...day.map((p) => p.v)));
    expect(Math.min(...out.map((p) => p.v))).toBe(Math.min(...day.map((p) => p.v)));
    for (let i = 1; i < out.length; i++) expect(out[i]!.t).toBeGreaterThan(out[i - 1]!.t);
  });
});

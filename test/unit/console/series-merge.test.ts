// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { livePoints, mergeLoaded, type Point } from '../../../console/src/series-merge.js';

describe('mergeLoaded', () => {
  const cases: {
    name: string;
    loaded: Point[];
    live: Point[];
    fromMs: number;
    max: number;
    want: Point[];
  }[] = [
    {
      name: 'nothing live: the answer as it is',
      loaded: [
        [1, 10],
        [2, 20],
      ],
      live: [],
      fromMs: 0,
      max: 9,
      want: [
        [1, 10],
        [2, 20],
      ],
    },
    {
      name: 'the answer came before the projection: live points fill in',
      loaded: [],
      live: [
        [1, 10],
        [2, 20],
      ],
      fromMs: 0,
      max: 9,
      want: [
        [1, 10],
        [2, 20],
      ],
    },
    {
      name: "a point in both is kept once, the answer's value",
      loaded: [
        [1, 10],
        [2, 20],
      ],
      live: [
        [2, 99],
        [3, 30],
      ],
      fromMs: 0,
      max: 9,
      want: [
        [1, 10],
        [2, 20],
        [3, 30],
      ],
    },
    {
      name: 'time order, whatever the arrival order',
      loaded: [[2, 20]],
      live: [
        [3, 30],
        [1, 10],
      ],
      fromMs: 0,
      max: 9,
      want: [
        [1, 10],
        [2, 20],
        [3, 30],
      ],
    },
    {
      name: 'live points before the window are left out',
      loaded: [[5, 50]],
      live: [
        [1, 10],
        [6, 60],
      ],
      fromMs: 5,
      max: 9,
      want: [
        [5, 50],
        [6, 60],
      ],
    },
    {
      name: 'the newest pointsMax are kept',
      loaded: [[1, 10]],
      live: [
        [2, 20],
        [3, 30],
      ],
      fromMs: 0,
      max: 2,
      want: [
        [2, 20],
        [3, 30],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(mergeLoaded(c.loaded, c.live, c.fromMs, c.max)).toEqual(c.want);
    });
  }
});

describe('livePoints', () => {
  it('takes the numeric values of one field with their times', () => {
    const frames = [
      { ts: '2026-01-01T00:00:00Z', data: { t: 1, s: 'x' } },
      { ts: '2026-01-01T00:00:01Z', data: { t: 'warm' } },
      { ts: '2026-01-01T00:00:02Z', data: { t: 3 } },
    ];
    expect(livePoints(frames, 't')).toEqual([
      [Date.parse('2026-01-01T00:00:00Z'), 1],
      [Date.parse('2026-01-01T00:00:02Z'), 3],
    ]);
    expect(livePoints(frames, 's')).toEqual([]);
  });
});

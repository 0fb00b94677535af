// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { frontierJump, partitionBySeq } from '../../../../processors/alarm/alarm-order.js';

describe('partitionBySeq: apply the run that continues the frontier', () => {
  const cases: [
    string,
    number[],
    number,
    { stale: number[]; apply: number[]; defer: number[]; frontier: number },
  ][] = [
    ['in order', [5, 6, 7], 4, { stale: [], apply: [5, 6, 7], defer: [], frontier: 7 }],
    ['unsorted input', [7, 5, 6], 4, { stale: [], apply: [5, 6, 7], defer: [], frontier: 7 }],
    ['redelivered, already applied', [3, 4, 5], 4, { stale: [3, 4], apply: [5], defer: [], frontier: 5 }],
    ['a gap: what follows it waits', [5, 7, 8], 4, { stale: [], apply: [5], defer: [7, 8], frontier: 5 }],
    ['the gap is at the front', [9, 10], 4, { stale: [], apply: [], defer: [9, 10], frontier: 4 }],
    [
      'after a gap even contiguous ones wait',
      [6, 8, 9],
      4,
      { stale: [], apply: [], defer: [6, 8, 9], frontier: 4 },
    ],
    ['duplicates in one batch', [5, 5, 6], 4, { stale: [], apply: [5, 6], defer: [], frontier: 6 }],
  ];
  it.each(cases)('%s', (_name, seqs, frontier, want) => {
    expect(partitionBySeq(seqs, frontier)).toEqual(want);
  });
});

describe('frontierJump: when to stop waiting for a gap', () => {
  const base = {
    frontier: 10,
    lowestWaiting: 15,
    streamFirstSeq: 1,
    blockedSinceMs: 0,
    nowMs: 1000,
    gapWaitMs: 5000,
  };
  it('waits while the gap may still be redelivered', () => {
    expect(frontierJump(base)).toBeUndefined();
  });
  it('jumps past sequences the stream no longer holds', () => {
    expect(frontierJump({ ...base, streamFirstSeq: 13 })).toEqual({ frontier: 12, why: 'expired' });
    expect(frontierJump({ ...base, streamFirstSeq: 40 })).toEqual({ frontier: 14, why: 'expired' });
  });
  it('gives up on a gap after gapWaitMs', () => {
    expect(frontierJump({ ...base, nowMs: 5000 })).toEqual({ frontier: 14, why: 'timed_out' });
  });
  it('no gap, no jump', () => {
    expect(frontierJump({ ...base, lowestWaiting: 11, nowMs: 1e9 })).toBeUndefined();
  });
});

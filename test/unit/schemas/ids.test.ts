// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { isUuid, uuidv7 } from '../../../schemas/index.js';

describe('uuidv7', () => {
  it.each([
    [0, '00000000-0000'],
    [1, '00000000-0001'],
    [0x0123456789ab, '01234567-89ab'],
    [0x019abc123456, '019abc12-3456'],
    [2 ** 48 - 1, 'ffffffff-ffff'],
  ])('at %d ms starts with the 48-bit time %s, then version 7 and the RFC 9562 variant', (ms, prefix) => {
    const id = uuidv7(ms);
    expect(isUuid(id)).toBe(true);
    expect(id.slice(0, 13)).toBe(prefix);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
  });

  it('200,000 ids in one millisecond are distinct (74 random bits each, across refills of the random pool)', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 200_000; i++) ids.add(uuidv7(1_764_000_000_000));
    expect(ids.size).toBe(200_000);
  });

  it('ids of later milliseconds sort after earlier ones', () => {
    const ids = [5, 1, 300, 2 ** 40].map((ms) => uuidv7(ms));
    expect([...ids].sort()).toEqual([ids[1], ids[0], ids[2], ids[3]]);
  });

  it('an id returned earlier does not change when the next is made (the formatting buffer is reused)', () => {
    const first = uuidv7(1);
    const copy = `${first}`;
    uuidv7(2);
    expect(first).toBe(copy);
  });
});

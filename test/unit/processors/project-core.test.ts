// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { projectRows } from '../../../processors/index.js';
import { event, messages, other } from '../../support/decoded.js';

describe('projectRows', () => {
  it('one ts_obs row per event, with microsecond timestamps', () => {
    const { obs } = projectRows(messages(event('1', 1_000_001, { a: 1 }), event('2', 2_000_000, { a: 2 })));
    expect(obs.map((o) => [o.ts_us, o.payload])).toEqual([
      [1_000_001, { a: 1 }],
      [2_000_000, { a: 2 }],
    ]);
  });

  const cases: {
    name: string;
    events: ReturnType<typeof event>[];
    state: Record<string, [unknown, string]>;
  }[] = [
    {
      name: 'newer wins',
      events: [event('1', 1, { a: 1 }), event('2', 2, { a: 2 })],
      state: { a: [2, '2'] },
    },
    {
      name: 'late event does not overwrite',
      events: [event('2', 2, { a: 2 }), event('1', 1, { a: 1 })],
      state: { a: [2, '2'] },
    },
    {
      name: 'per field: a late event still sets a field nobody else has',
      events: [event('2', 2, { a: 2 }), event('1', 1, { a: 1, b: 1 })],
      state: { a: [2, '2'], b: [1, '1'] },
    },
    {
      name: 'equal time: the larger event id wins, in any order',
      events: [event('9', 5, { a: 9 }), event('3', 5, { a: 3 })],
      state: { a: [9, '9'] },
    },
    {
      name: 'equal time, other order',
      events: [event('3', 5, { a: 3 }), event('9', 5, { a: 9 })],
      state: { a: [9, '9'] },
    },
    {
      name: 'nested values stay whole',
      events: [event('1', 1, { n: { x: 1 } })],
      state: { n: [{ x: 1 }, '1'] },
    },
  ];
  it.each(cases)('state: $name', ({ events, state }) => {
    const rows = projectRows(messages(...events)).state;
    const got = Object.fromEntries(rows.map((r) => [r.field, [r.value, r.event_id.slice(-1)]]));
    expect(got).toEqual(state);
  });

  it('state rows are unique per (target, field) and sorted, so concurrent workers cannot deadlock', () => {
    const { state } = projectRows(
      messages(
        event('1', 1, { b: 1, a: 1 }, other),
        event('2', 2, { b: 2 }),
        event('3', 3, { a: 3 }),
        event('4', 4, { a: 4 }),
      ),
    );
    const keys = state.map((s) => `${s.target_id}/${s.field}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual([...keys].sort());
  });
});

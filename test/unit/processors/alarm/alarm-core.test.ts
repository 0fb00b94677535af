// SPDX-License-Identifier: MIT
// The alarm state machine by tables: a rule, a sequence of events (observation time in seconds, data),
// optionally time passing without events, and the transitions expected (kind @ second).
import { describe, expect, it } from 'vitest';
import {
  type AlarmRule,
  advanceTo,
  afterManualClear,
  type EvalState,
  initialEvalState,
  parseRuleDefinition,
  stepAll,
  type Transition,
} from '../../../../processors/index.js';

const target = '0190f3c4-0000-7000-8000-0000000000aa';
const s = 1_000_000;
const base = 1_800_000_000 * s;

function rule(body: Record<string, unknown>): AlarmRule {
  const def = parseRuleDefinition({ name: 'r', ...body });
  return {
    ruleId: '0190f3c4-0000-7000-8000-0000000000ff',
    version: 1,
    name: 'r',
    severity: def.severity,
    targetId: null,
    kind: null,
    spec: def.spec,
  };
}

type Step = [number, Record<string, unknown>] | ['advance', number];

function run(r: AlarmRule, steps: readonly Step[], state: EvalState = initialEvalState) {
  const transitions: Transition[] = [];
  let st = state;
  let n = 0;
  for (const step of steps) {
    const result =
      step[0] === 'advance'
        ? advanceTo(r, target, st, base + step[1] * s)
        : stepAll(r, target, st, [
            {
              ts: base + step[0] * s,
              eventId: `0190f3c4-0000-7000-8000-${String(++n).padStart(12, '0')}`,
              data: step[1],
            },
          ]);
    st = result.state;
    transitions.push(...result.transitions);
  }
  return { state: st, transitions, compact: transitions.map((t) => `${t.kind}@${(t.at - base) / s}`) };
}

const clause = (field: string, op: string, value: unknown) => ({ field, op, value });
const threshold = (c: unknown, extra: Record<string, unknown> = {}) =>
  rule({ type: 'threshold', condition: { all: [c] }, ...extra });
const seq = (field: string, values: unknown[]): Step[] => values.map((v, i) => [i + 1, { [field]: v }]);

describe('threshold operators', () => {
  const cases: [string, AlarmRule, Step[], string[]][] = [
    [
      '>',
      threshold(clause('t', '>', 90)),
      seq('t', [89, 91, 90, 95, 80]),
      ['raised@2', 'cleared@3', 'raised@4', 'cleared@5'],
    ],
    ['>=', threshold(clause('t', '>=', 90)), seq('t', [89, 90, 89]), ['raised@2', 'cleared@3']],
    ['<', threshold(clause('t', '<', 10)), seq('t', [11, 9, 10]), ['raised@2', 'cleared@3']],
    ['<=', threshold(clause('t', '<=', 10)), seq('t', [11, 10, 11]), ['raised@2', 'cleared@3']],
    [
      '== string',
      threshold(clause('m', '==', 'idle')),
      seq('m', ['run', 'idle', 'idle', 'run']),
      ['raised@2', 'cleared@4'],
    ],
    [
      '!= boolean',
      threshold(clause('on', '!=', true)),
      seq('on', [true, false, true]),
      ['raised@2', 'cleared@3'],
    ],
    [
      'between (inclusive)',
      threshold({ field: 't', op: 'between', min: 10, max: 20 }),
      seq('t', [5, 10, 20, 21]),
      ['raised@2', 'cleared@4'],
    ],
    [
      'outside',
      threshold({ field: 't', op: 'outside', min: 10, max: 20 }),
      seq('t', [15, 9, 10, 25]),
      ['raised@2', 'cleared@3', 'raised@4'],
    ],
    [
      'a number op on a string value never holds',
      threshold(clause('t', '>', 1)),
      seq('t', ['hot', 'hotter']),
      [],
    ],
    [
      'a nested field',
      threshold(clause('engine.temp', '>', 1)),
      seq('engine', [{ temp: 0 }, { temp: 2 }]),
      ['raised@2'],
    ],
  ];
  it.each(cases)('%s', (_name, r, steps, want) => {
    expect(run(r, steps).compact).toEqual(want);
  });
});

describe('all / any over fields arriving in different events', () => {
  const both = [clause('temp', '>', 90), clause('rpm', '>', 3000)];
  const cases: [string, AlarmRule, Step[], string[]][] = [
    [
      'all: needs every clause, a field not yet seen is false',
      rule({ type: 'threshold', condition: { all: both } }),
      [
        [1, { temp: 95 }],
        [2, { rpm: 3500 }],
        [3, { temp: 80 }],
      ],
      ['raised@2', 'cleared@3'],
    ],
    [
      'any: one clause is enough',
      rule({ type: 'threshold', condition: { any: both } }),
      [
        [1, { temp: 95 }],
        [2, { rpm: 100 }],
        [3, { temp: 80 }],
      ],
      ['raised@1', 'cleared@3'],
    ],
  ];
  it.each(cases)('%s', (_name, r, steps, want) => {
    expect(run(r, steps).compact).toEqual(want);
  });
});

describe('for_s: the condition must hold that long', () => {
  const r = threshold(clause('t', '>', 90), { for_s: 10 });
  const cases: [string, Step[], string[]][] = [
    [
      'raised at the deadline, seen from a later event',
      [
        [0, { t: 95 }],
        [5, { t: 96 }],
        [12, { t: 97 }],
      ],
      ['raised@10'],
    ],
    [
      'interrupted: the clock starts again',
      [
        [0, { t: 95 }],
        [5, { t: 80 }],
        [6, { t: 95 }],
        [20, { t: 95 }],
      ],
      ['raised@16'],
    ],
    [
      'without any new event, time passing raises it',
      [
        [0, { t: 95 }],
        ['advance', 9],
        ['advance', 10],
      ],
      ['raised@10'],
    ],
    [
      'not held long enough: nothing',
      [
        [0, { t: 95 }],
        [9, { t: 50 }],
        ['advance', 60],
      ],
      [],
    ],
    [
      'clears at once when it stops holding',
      [
        [0, { t: 95 }],
        ['advance', 10],
        [11, { t: 50 }],
      ],
      ['raised@10', 'cleared@11'],
    ],
  ];
  it.each(cases)('%s', (_name, steps, want) => {
    expect(run(r, steps).compact).toEqual(want);
  });
});

describe('hysteresis: a separate clear condition', () => {
  const r = threshold(clause('t', '>', 90), { clear: { all: [clause('t', '<', 80)] } });
  it('stays open between the two thresholds', () => {
    expect(run(r, seq('t', [95, 85, 91, 79, 85, 95])).compact).toEqual(['raised@1', 'cleared@4', 'raised@6']);
  });
});

describe('deadman: no data on a field for timeout_s', () => {
  const r = rule({ type: 'deadman', field: 'hb', timeout_s: 10 });
  const cases: [string, Step[], string[]][] = [
    [
      'fires when time passes without data',
      [
        [0, { hb: 1 }],
        ['advance', 9.999],
        ['advance', 10],
      ],
      ['raised@10'],
    ],
    [
      'clears when data comes again, and is armed again',
      [
        [0, { hb: 1 }],
        ['advance', 10],
        [15, { hb: 2 }],
        ['advance', 25],
      ],
      ['raised@10', 'cleared@15', 'raised@25'],
    ],
    [
      'events without the field do not count',
      [
        [0, { hb: 1 }],
        [5, { other: 1 }],
        ['advance', 10],
      ],
      ['raised@10'],
    ],
    [
      'a gap seen in observation time (late upload) raises and clears',
      [
        [0, { hb: 1 }],
        [30, { hb: 2 }],
      ],
      ['raised@10', 'cleared@30'],
    ],
    [
      'never heard of: never armed',
      [
        [0, { other: 1 }],
        ['advance', 100],
      ],
      [],
    ],
  ];
  it.each(cases)('%s', (_name, steps, want) => {
    expect(run(r, steps).compact).toEqual(want);
  });
});

describe('geofence: a circle of 1000 m around (0, 0)', () => {
  const fence = { lat: 0, lon: 0, radius_m: 1000 };
  const inside = { lat: 0, lon: 0.005 }; // ≈ 557 m
  const outside = { lat: 0, lon: 0.02 }; // ≈ 2.2 km
  const g = (trigger: string, extra = {}) => rule({ type: 'geofence', fence, trigger, ...extra });
  const path = (...ps: Record<string, unknown>[]): Step[] => ps.map((p, i) => [i + 1, p]);
  const cases: [string, AlarmRule, Step[], string[]][] = [
    ['inside', g('inside'), path(inside, outside, inside), ['raised@1', 'cleared@2', 'raised@3']],
    ['outside', g('outside'), path(inside, outside, inside), ['raised@2', 'cleared@3']],
    [
      'enter: the first position inside is no entry',
      g('enter'),
      path(inside, outside, inside, outside),
      ['raised@3', 'cleared@4'],
    ],
    [
      'exit: the first position outside is no exit',
      g('exit'),
      path(outside, inside, outside, inside),
      ['raised@3', 'cleared@4'],
    ],
    ['lat and lon in separate events', g('inside'), path({ lat: 0 }, { lon: 0 }), ['raised@2']],
    ['an invalid position is ignored', g('outside'), path({ lat: 95, lon: 0 }, inside), []],
    [
      'with for_s: must stay outside that long',
      g('exit', { for_s: 5 }),
      [
        [0, inside],
        [1, outside],
        [3, inside],
        [4, outside],
        ['advance', 9],
      ],
      ['raised@9'],
    ],
  ];
  it.each(cases)('%s', (_name, r, steps, want) => {
    expect(run(r, steps).compact).toEqual(want);
  });
});

describe('lifecycle properties', () => {
  const r = threshold(clause('t', '>', 90));

  it('redelivery: applying the same events again changes nothing and raises nothing', () => {
    const events: Step[] = seq('t', [95, 50, 99]);
    const first = run(r, events);
    const again = run(r, events, first.state);
    expect(first.compact).toEqual(['raised@1', 'cleared@2', 'raised@3']);
    expect(again.transitions).toEqual([]);
    expect(again.state).toEqual(first.state);
  });

  it('a late event older than what is known changes nothing', () => {
    const { state } = run(r, [[10, { t: 50 }]]);
    expect(run(r, [[5, { t: 99 }]], state).transitions).toEqual([]);
  });

  it('the same history raises the same alarm ids (live, redelivered, backtested)', () => {
    const a = run(r, seq('t', [95, 50, 99])).transitions.map((t) => t.alarmId);
    const b = run(r, seq('t', [95, 50, 99])).transitions.map((t) => t.alarmId);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(2);
  });

  it('after a manual clear, no new alarm until the condition has stopped holding', () => {
    const raised = run(r, [[1, { t: 95 }]]);
    const cleared = afterManualClear(raised.state);
    expect(run(r, [[2, { t: 96 }]], cleared).transitions).toEqual([]);
    expect(
      run(
        r,
        [
          [2, { t: 96 }],
          [3, { t: 50 }],
          [4, { t: 97 }],
        ],
        cleared,
      ).compact,
    ).toEqual(['raised@4']);
  });

  it('a deadman cleared by hand stays quiet until data comes', () => {
    const d = rule({ type: 'deadman', field: 'hb', timeout_s: 10 });
    const fired = run(d, [
      [0, { hb: 1 }],
      ['advance', 10],
    ]);
    const cleared = afterManualClear(fired.state);
    expect(run(d, [['advance', 100]], cleared).transitions).toEqual([]);
    expect(
      run(
        d,
        [
          [50, { hb: 1 }],
          ['advance', 60],
        ],
        cleared,
      ).compact,
    ).toEqual(['raised@60']);
  });

  it('transitions are never stamped before the previous one', () => {
    const d = rule({ type: 'deadman', field: 'hb', timeout_s: 10 });
    // Raised by time at 10; then a value observed at 9.5 (newer than the one at 0) arrives late.
    const { compact } = run(d, [
      [0, { hb: 1 }],
      ['advance', 10],
      [9.5, { hb: 2 }],
    ]);
    expect(compact).toEqual(['raised@10', 'cleared@10']);
  });

  it('carries the values and the causing event', () => {
    const [t] = run(r, [[1, { t: 95, other: 'x' }]]).transitions;
    expect(t).toMatchObject({ kind: 'raised', reason: 't > 90', values: { t: 95 } });
    expect(t?.eventId).toMatch(/^0190f3c4-/);
  });
});

// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  applyRules,
  type MappingRule,
  rulesForBatch,
  rulesInForce,
  unitConversions,
} from '../../../../processors/index.js';

function rule(r: Partial<MappingRule> & Pick<MappingRule, 'field' | 'action'>): MappingRule {
  return {
    ruleId: 'r',
    kind: null,
    targetId: null,
    toField: null,
    scale: null,
    offset: null,
    position: 0,
    createdAtMicros: 0,
    deletedAtMicros: null,
    ...r,
  };
}

describe('applyRules', () => {
  const c2f = unitConversions['c->f']!;
  const cases: {
    name: string;
    data: Record<string, unknown>;
    rules: MappingRule[];
    out: Record<string, unknown>;
  }[] = [
    { name: 'no rules', data: { a: 1 }, rules: [], out: { a: 1 } },
    {
      name: 'rename',
      data: { a: 1, b: 2 },
      rules: [rule({ field: 'a', action: 'rename', toField: 'x' })],
      out: { x: 1, b: 2 },
    },
    {
      name: 'rename overwrites the target field',
      data: { a: 1, x: 9 },
      rules: [rule({ field: 'a', action: 'rename', toField: 'x' })],
      out: { x: 1 },
    },
    {
      name: 'rename into a nested path',
      data: { a: 1 },
      rules: [rule({ field: 'a', action: 'rename', toField: 'n.a' })],
      out: { n: { a: 1 } },
    },
    {
      name: 'rename out of a nested path',
      data: { n: { a: 1, b: 2 } },
      rules: [rule({ field: 'n.a', action: 'rename', toField: 'a' })],
      out: { a: 1, n: { b: 2 } },
    },
    { name: 'drop', data: { a: 1, b: 2 }, rules: [rule({ field: 'b', action: 'drop' })], out: { a: 1 } },
    {
      name: 'drop nested',
      data: { n: { a: 1, b: 2 } },
      rules: [rule({ field: 'n.b', action: 'drop' })],
      out: { n: { a: 1 } },
    },
    {
      name: 'convert c->f',
      data: { t: 100 },
      rules: [rule({ field: 't', action: 'convert', ...c2f })],
      out: { t: 212 },
    },
    {
      name: 'convert c->f of 37',
      data: { t: 37 },
      rules: [rule({ field: 't', action: 'convert', ...c2f })],
      out: { t: 98.6 },
    },
    {
      name: 'convert leaves strings alone',
      data: { t: 'hot' },
      rules: [rule({ field: 't', action: 'convert', scale: 2, offset: 0 })],
      out: { t: 'hot' },
    },
    {
      name: 'absent field: nothing',
      data: { a: 1 },
      rules: [rule({ field: 'z', action: 'drop' }), rule({ field: 'z', action: 'rename', toField: 'y' })],
      out: { a: 1 },
    },
    {
      name: 'rules chain in order: convert then rename',
      data: { c: 0 },
      rules: [
        rule({ field: 'c', action: 'convert', ...c2f }),
        rule({ field: 'c', action: 'rename', toField: 'f' }),
      ],
      out: { f: 32 },
    },
    {
      name: 'a path through a non-object is absent',
      data: { a: 5 },
      rules: [rule({ field: 'a.b', action: 'drop' })],
      out: { a: 5 },
    },
  ];
  it.each(cases)('$name', ({ data, rules, out }) => {
    const copy = structuredClone(data);
    expect(applyRules(data, rules)).toEqual(out);
    expect(data).toEqual(copy); // the input is never changed
  });
});

describe('rulesInForce', () => {
  const scope = { kind: 'boiler', targetId: 't1', receivedAtMicros: 1000 };
  const cases: { name: string; rule: Partial<MappingRule>; applies: boolean }[] = [
    { name: 'global rule', rule: {}, applies: true },
    { name: 'same kind', rule: { kind: 'boiler' }, applies: true },
    { name: 'other kind', rule: { kind: 'pump' }, applies: false },
    { name: 'same target', rule: { targetId: 't1' }, applies: true },
    { name: 'other target', rule: { targetId: 't2' }, applies: false },
    { name: 'created at the event time', rule: { createdAtMicros: 1000 }, applies: true },
    { name: 'created after the event was received', rule: { createdAtMicros: 1001 }, applies: false },
    { name: 'deleted before the event', rule: { deletedAtMicros: 1000 }, applies: false },
    { name: 'deleted after the event', rule: { deletedAtMicros: 1001 }, applies: true },
  ];
  it.each(cases)('$name → $applies', ({ rule: r, applies }) => {
    expect(rulesInForce([rule({ field: 'x', action: 'drop', ...r })], scope)).toHaveLength(applies ? 1 : 0);
  });

  it('orders by position, then creation', () => {
    const rules = [
      rule({ ruleId: 'c', field: 'x', action: 'drop', position: 1, createdAtMicros: 1 }),
      rule({ ruleId: 'b', field: 'x', action: 'drop', position: 0, createdAtMicros: 5 }),
      rule({ ruleId: 'a', field: 'x', action: 'drop', position: 0, createdAtMicros: 2 }),
    ];
    expect(rulesInForce(rules, scope).map((r) => r.ruleId)).toEqual(['a', 'b', 'c']);
  });
});

describe('rulesForBatch', () => {
  const rules = [
    rule({ ruleId: 'late', field: 'x', action: 'drop', createdAtMicros: 500 }),
    rule({ ruleId: 'other', field: 'x', action: 'drop', kind: 'pump' }),
    rule({ ruleId: 'first', field: 'x', action: 'drop', position: -1 }),
    rule({ ruleId: 'gone', field: 'x', action: 'drop', deletedAtMicros: 300 }),
  ];
  const of = rulesForBatch(rules);
  it.each([100, 299, 300, 499, 500, 10_000])('at %d µs it answers what rulesInForce answers', (at) => {
    const scope = { kind: 'boiler', targetId: 't1', receivedAtMicros: at };
    expect(of({ kind: 'boiler', target_id: 't1', received_at: at }).map((r) => r.ruleId)).toEqual(
      rulesInForce(rules, scope).map((r) => r.ruleId),
    );
  });
});

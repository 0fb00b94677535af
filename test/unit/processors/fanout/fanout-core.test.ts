// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  compileIndex,
  type FanoutAlarm,
  fanoutAlarms,
  fanoutEvents,
  grantsFor,
  maskAlarm,
  maskFields,
  metaMatches,
  parseAlarmMessage,
  type Subscription,
  targetsMissingMeta,
} from '../../../../processors/index.js';

const T1 = '00000000-0000-4000-8000-000000000001';
const T2 = '00000000-0000-4000-8000-000000000002';
const L1 = '10000000-0000-4000-8000-000000000001';
const L2 = '10000000-0000-4000-8000-000000000002';

function sub(p: Partial<Subscription> & { listenerId: string }): Subscription {
  return { targetId: null, kind: null, meta: null, fields: null, alarms: false, ...p };
}

describe('metaMatches', () => {
  it.each([
    [{ city: 'berlin' }, null, true],
    [{ city: 'berlin' }, {}, true],
    [{ city: 'berlin', line: 7 }, { city: 'berlin' }, true],
    [{ city: 'berlin', line: 7 }, { city: 'berlin', line: 7 }, true],
    [{ city: 'berlin' }, { city: 'paris' }, false],
    [{ city: 'berlin' }, { line: 7 }, false],
    [{ line: '7' }, { line: 7 }, false],
    [{ gone: null }, { gone: null }, true],
    [{}, { gone: null }, false],
    [undefined, { city: 'berlin' }, false],
    [undefined, null, true],
    [{ ok: true }, { ok: true }, true],
    [Object.create({ city: 'berlin' }) as Record<string, unknown>, { city: 'berlin' }, false],
  ])('meta %j with filter %j → %s', (meta, filter, expected) => {
    expect(metaMatches(meta, filter)).toBe(expected);
  });
});

describe('maskFields', () => {
  it.each([
    [{ temp: 1, lat: 2 }, null, { temp: 1, lat: 2 }],
    [{ temp: 1, lat: 2 }, ['temp'], { temp: 1 }],
    [{ temp: 1, lat: 2 }, ['temp', 'lat', 'x'], { temp: 1, lat: 2 }],
    [{ lat: 2 }, ['temp'], undefined],
    [{}, ['temp'], undefined],
    [{}, null, {}],
    [{ engine: { temp: 3 }, rpm: 1 }, ['engine'], { engine: { temp: 3 } }],
  ])('%j masked to %j → %j', (data, fields, expected) => {
    expect(maskFields(data, fields === null ? null : new Set(fields))).toEqual(expected);
  });

  it('keeps a field named __proto__ as a plain field', () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const out = maskFields(data, new Set(['__proto__']))!;
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('grantsFor', () => {
  const index = compileIndex([
    sub({ listenerId: L2, targetId: T1, fields: ['temp'] }),
    sub({ listenerId: L2, kind: 'bus', fields: ['speed'], alarms: true }),
    sub({ listenerId: L1, kind: 'bus', meta: { city: 'berlin' } }),
    sub({ listenerId: L1, targetId: T2, fields: ['doors'] }),
  ]);
  it.each([
    ['by target only', { targetId: T1, kind: 'tram', meta: {} }, [[L2, ['temp'], false]]],
    [
      'target + kind merge their masks and alarms',
      { targetId: T1, kind: 'bus', meta: {} },
      [[L2, ['speed', 'temp'], true]],
    ],
    [
      'an all-fields subscription makes it all; sorted by listener',
      { targetId: T2, kind: 'bus', meta: { city: 'berlin' } },
      [
        [L1, null, false],
        [L2, ['speed'], true],
      ],
    ],
    [
      'meta filter not met',
      { targetId: T2, kind: 'bus', meta: { city: 'paris' } },
      [
        [L1, ['doors'], false],
        [L2, ['speed'], true],
      ],
    ],
    [
      'only the target subscription',
      { targetId: T2, kind: 'tram', meta: undefined },
      [[L1, ['doors'], false]],
    ],
    [
      'unknown target and kind',
      { targetId: '20000000-0000-4000-8000-000000000000', kind: 'x', meta: {} },
      [],
    ],
  ])('%s', (_what, target, expected) => {
    const got = grantsFor(index, target).map((g) => [
      g.listenerId,
      g.fields === null ? null : [...g.fields].sort(),
      g.alarms,
    ]);
    expect(got).toEqual(expected);
  });

  it('knows which kinds need target meta', () => {
    expect([...index.metaKinds]).toEqual(['bus']);
    expect(
      targetsMissingMeta(
        index,
        [
          { targetId: T1, kind: 'bus' },
          { targetId: T2, kind: 'bus' },
          { targetId: T2, kind: 'tram' },
          { targetId: T1, kind: 'bus' },
        ],
        (id) => id === T2,
      ),
    ).toEqual([T1]);
  });
});

describe('fanoutEvents', () => {
  const index = compileIndex([
    sub({ listenerId: L1, targetId: T1, fields: ['temp'] }),
    sub({ listenerId: L2, targetId: T1 }),
  ]);
  const ev = (eventId: string, targetId: string, data: Record<string, unknown>) => ({
    eventId,
    targetId,
    kind: 'probe',
    ts: '2026-01-01T00:00:00.000000Z',
    data,
  });

  it('one copy per listener and event, masked, with <event_id>:<listener_id> ids, in event order', () => {
    const out = fanoutEvents(
      index,
      [ev('e1', T1, { temp: 1, lat: 2 }), ev('e2', T1, { lat: 3 }), ev('e3', T2, { temp: 9 })],
      () => undefined,
    );
    expect(out.map((o) => [o.msgId, o.listenerId, o.payload.data])).toEqual([
      [`e1:${L1}`, L1, { temp: 1 }],
      [`e1:${L2}`, L2, { temp: 1, lat: 2 }],
      [`e2:${L2}`, L2, { lat: 3 }],
    ]);
    expect(out[0]!.payload).toEqual({
      type: 'event',
      target_id: T1,
      ts: '2026-01-01T00:00:00.000000Z',
      event_id: 'e1',
      data: { temp: 1 },
    });
  });

  it('is empty without subscriptions', () => {
    expect(fanoutEvents(compileIndex([]), [ev('e1', T1, { temp: 1 })], () => undefined)).toEqual([]);
  });
});

describe('alarms', () => {
  const body = {
    transition_id: 'a1:raised',
    transition: 'raised',
    target_id: T1,
    kind: 'boiler',
    at: '2026-01-01T00:00:00.000000Z',
    reason: 'temp 95 > 90 and engine.rpm 1200 > 1000',
    fields: ['temp', 'engine.rpm'],
    values: { temp: 95, 'engine.rpm': 1200 },
  };

  it.each([
    [null, body],
    [['temp', 'engine'], body],
    [['temp'], { ...body, fields: ['temp'], values: { temp: 95 }, reason: undefined }],
    [['engine'], { ...body, fields: ['engine.rpm'], values: { 'engine.rpm': 1200 }, reason: undefined }],
    [['other'], { ...body, fields: [], values: {}, reason: undefined }],
  ])('masked to %j', (fields, expected) => {
    const got = maskAlarm(body, fields === null ? null : new Set(fields));
    expect(JSON.parse(JSON.stringify(got))).toEqual(JSON.parse(JSON.stringify(expected)));
  });

  it('go only to listeners that asked for alarms', () => {
    const index = compileIndex([
      sub({ listenerId: L1, targetId: T1, alarms: true, fields: ['temp'] }),
      sub({ listenerId: L2, targetId: T1, alarms: false }),
    ]);
    const alarm = parseAlarmMessage(body) as FanoutAlarm;
    const out = fanoutAlarms(index, [alarm], () => undefined);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      listenerId: L1,
      msgId: `a1:raised:${L1}`,
      payload: { type: 'alarm', target_id: T1, event_id: 'a1:raised', data: { values: { temp: 95 } } },
    });
  });

  it.each([
    [null],
    [[]],
    [{ ...body, transition_id: 1 }],
    [{ ...body, at: undefined }],
    [{ ...body, kind: undefined }],
  ])('refuses a message that is not a transition: %j', (msg) => {
    expect(parseAlarmMessage(msg)).toBeUndefined();
  });
});

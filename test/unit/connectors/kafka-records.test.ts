// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { decodeRecord, kafkaEventId } from '../../../connectors/kafka/index.js';

const rec = (value: string | null, key: string | null = 'dev-1', offset = '7') => ({
  topic: 'readings',
  partition: 2,
  offset,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  timestamp: '1700000000000',
  headers: { origin: Buffer.from('plant-a') },
});
const byKey = { connectorId: 'c1', byKey: true, path: undefined };
const byPath = { connectorId: 'c1', byKey: false, path: '$.device' };

describe('decodeRecord', () => {
  it.each([
    [
      'an object is the data, the record timestamp the ts',
      '{"t": 1}',
      [{ ts: 1_700_000_000_000, data: { t: 1 } }],
    ],
    [
      '{ts, data} keeps its ts',
      '{"ts": "2026-01-01T00:00:00Z", "data": {"t": 2}}',
      [{ ts: '2026-01-01T00:00:00Z', data: { t: 2 } }],
    ],
    ['{data, other} is data as a whole', '{"data": {"t": 2}, "x": 1}', [{ data: { data: { t: 2 }, x: 1 } }]],
    [
      'an array is several events',
      '[{"t": 1}, {"ts": 5, "data": {"t": 2}}]',
      [{ data: { t: 1 } }, { ts: 5, data: { t: 2 } }],
    ],
  ])('%s', (_what, value, expected) => {
    const r = decodeRecord(byKey, rec(value));
    expect(Array.isArray(r)).toBe(true);
    expect(r).toMatchObject(expected);
  });

  it.each([
    ['not JSON', 'nope {', byKey, 'INVALID_RECORD'],
    ['a scalar', '42', byKey, 'INVALID_RECORD'],
    ['an empty array', '[]', byKey, 'INVALID_RECORD'],
    ['an event that is no object', '[{"t":1}, 3]', byKey, 'INVALID_RECORD'],
    ['no value', null, byKey, 'INVALID_RECORD'],
    ['no key where the key names the target', '{"t":1}', byKey, 'TARGET_KEY_MISSING', null],
    ['no value at the path', '{"t":1}', byPath, 'TARGET_KEY_MISSING'],
  ] as const)('refuses %s, naming the position', (_what, value, rules, code, key: string | null = 'k') => {
    const r = decodeRecord(rules, rec(value, key));
    expect(r).toMatchObject({ code, origin: 'readings/2@7' });
  });

  it('reads the key from the record key or a value path; keeps headers and the position as attrs', () => {
    const [a] = decodeRecord(byKey, rec('{"device": "d-9"}')) as any[];
    const [b] = decodeRecord(byPath, rec('{"device": "d-9"}')) as any[];
    expect([a.key, b.key]).toEqual(['dev-1', 'd-9']);
    expect(a.attrs).toEqual({
      'kafka.topic': 'readings',
      'kafka.partition': '2',
      'kafka.offset': '7',
      'kafka.header.origin': 'plant-a',
    });
  });

  it('derives event ids from connector, topic, partition, offset and index: same record, same ids', () => {
    const r1 = decodeRecord(byKey, rec('[{"t":1},{"t":2}]')) as any[];
    const r2 = decodeRecord(byKey, rec('[{"t":1},{"t":2}]')) as any[];
    const r3 = decodeRecord(byKey, rec('[{"t":1},{"t":2}]', 'dev-1', '8')) as any[];
    expect(r1.map((e) => e.eventId)).toEqual(r2.map((e) => e.eventId));
    expect(new Set([...r1, ...r3].map((e) => e.eventId)).size).toBe(4);
    expect(r1[0].eventId).toBe(kafkaEventId('c1', rec(''), 0));
  });
});

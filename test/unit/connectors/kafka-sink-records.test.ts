// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  cursorOfRecord,
  type ListenMessage,
  parseKafkaSinkConfig,
  planRecords,
} from '../../../connectors/kafka-sink/index.js';

const sink = 'sink-1';
const msg = (
  seq: number,
  target: string,
  body: unknown = { type: 'event', target_id: target, data: { t: seq } },
) =>
  ({
    seq,
    subject: `tmi.listen.L1.${target}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }) satisfies ListenMessage;
// Targets a and c share partition 0, b is in partition 1.
const partitionOf = (key: string) => (key === 'b' ? 1 : 0);

describe('planRecords', () => {
  it.each([
    ['no tails: everything, in stream order', new Map<number, number>(), [1, 2, 3, 4], 0],
    ['a partition holding up to 3 skips its messages up to 3 only', new Map([[0, 3]]), [2, 4], 2],
    [
      'each partition by its own tail',
      new Map([
        [0, 3],
        [1, 2],
      ]),
      [4],
      3,
    ],
    [
      'tails past the batch: nothing again',
      new Map([
        [0, 9],
        [1, 9],
      ]),
      [],
      4,
    ],
  ])('%s', (_what, tails, produced, skipped) => {
    const batch = [msg(1, 'a'), msg(2, 'b'), msg(3, 'c'), msg(4, 'a')];
    const plan = planRecords(batch, tails, partitionOf, sink);
    expect(plan.records.map((r) => Number(r.headers['tmidb-cursor']))).toEqual(produced);
    expect(plan.skipped).toBe(skipped);
    expect(plan.rejected).toEqual([]);
  });

  it('a record is the listener frame with its cursor, keyed and placed by target, headed with cursor, sink and type', () => {
    const alarm = { type: 'alarm', target_id: 'b', ts: 5, data: { transition: 'raised' } };
    const [r] = planRecords([msg(7, 'b', alarm)], new Map(), partitionOf, sink).records;
    expect(r).toEqual({
      key: 'b',
      value: JSON.stringify({ cursor: 7, ...alarm }),
      partition: 1,
      headers: { 'tmidb-cursor': '7', 'tmidb-sink': sink, 'tmidb-type': 'alarm' },
    });
  });

  it.each([['not json {'], ['[1,2]'], ['"text"'], ['null']])('%s is dead-lettered, not produced', (body) => {
    const plan = planRecords([msg(1, 'a', body), msg(2, 'a')], new Map(), partitionOf, sink);
    expect(plan.records.map((r) => r.headers['tmidb-cursor'])).toEqual(['2']);
    expect(plan.rejected).toMatchObject([{ origin: 'listen 1', code: 'INVALID_FRAME' }]);
  });
});

describe('cursorOfRecord', () => {
  it.each([
    ['this sink', { 'tmidb-sink': Buffer.from(sink), 'tmidb-cursor': Buffer.from('42') }, 42],
    ['another sink', { 'tmidb-sink': Buffer.from('other'), 'tmidb-cursor': Buffer.from('42') }, undefined],
    ['no headers', undefined, undefined],
    [
      'a cursor that is no sequence',
      { 'tmidb-sink': Buffer.from(sink), 'tmidb-cursor': Buffer.from('x') },
      undefined,
    ],
    ['cursor 0', { 'tmidb-sink': Buffer.from(sink), 'tmidb-cursor': Buffer.from('0') }, undefined],
  ])('%s', (_what, headers, expected) => {
    expect(cursorOfRecord(headers, sink)).toBe(expected);
  });
});

describe('parseKafkaSinkConfig', () => {
  const ok = { listener: 'ops', brokers: ['k:9092'], topic: 'ops-out' };
  it('fills the defaults', () => {
    expect(parseKafkaSinkConfig(ok)).toMatchObject({
      listener: 'ops',
      topic: 'ops-out',
      clientId: 'tmidb-sink-ops',
      from: 'earliest',
      partitions: 3,
      batchRecordsMax: 500,
      ssl: false,
      sasl: undefined,
    });
  });
  it.each([
    ['no listener', { ...ok, listener: undefined }, 'config.listener'],
    ['a listener name the listeners route refuses', { ...ok, listener: '9lives' }, 'config.listener'],
    ['a bad topic', { ...ok, topic: 'a/b' }, 'config.topic'],
    ['no brokers', { ...ok, brokers: [] }, 'config.brokers'],
    ['a broker without a port', { ...ok, brokers: ['k'] }, 'config.brokers[0]'],
    ['0 partitions', { ...ok, partitions: 0 }, 'config.partitions'],
    ['an unknown member', { ...ok, group_id: 'g' }, 'config'],
    ['from somewhere else', { ...ok, from: 'middle' }, 'config.from'],
  ])('refuses %s, naming the member', (_what, config, member) => {
    expect(() => parseKafkaSinkConfig(config)).toThrow(
      expect.objectContaining({ member: expect.stringContaining(member) }),
    );
  });
});

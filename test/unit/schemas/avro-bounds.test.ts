// SPDX-License-Identifier: MIT
// The bounds walk accepts every valid encoding (it must never refuse what avsc would decode) and refuses
// lengths and block counts the body cannot hold — the 5-byte body that made avsc allocate 268 M items first.
import avro from 'avsc';
import { expect, it } from 'vitest';
import { AvroBoundsError, checkAvroBounds } from '../../../schemas/avro-bounds.js';
import { decodeEventBatch, decodeEventHeads, encodeEventBatch } from '../../../schemas/envelope.js';

const wide = avro.Type.forSchema({
  type: 'record',
  name: 'Wide',
  fields: [
    { name: 'n', type: 'null' },
    { name: 'b', type: 'boolean' },
    { name: 'i', type: 'int' },
    { name: 'l', type: 'long' },
    { name: 'f', type: 'float' },
    { name: 'd', type: 'double' },
    { name: 's', type: 'string' },
    { name: 'by', type: 'bytes' },
    { name: 'fx', type: { type: 'fixed', name: 'Three', size: 3 } },
    { name: 'e', type: { type: 'enum', name: 'E', symbols: ['a', 'b'] } },
    { name: 'a', type: { type: 'array', items: 'long' } },
    { name: 'nulls', type: { type: 'array', items: 'null' } },
    { name: 'm', type: { type: 'map', values: 'string' } },
    {
      name: 'u',
      type: ['null', 'string', { type: 'record', name: 'In', fields: [{ name: 'x', type: 'int' }] }],
    },
    {
      name: 'nested',
      type: { type: 'array', items: { type: 'map', values: { type: 'array', items: 'In' } } },
    },
  ],
});
const value = {
  n: null,
  b: true,
  i: -5,
  l: 2 ** 40,
  f: 1.5,
  d: -2.25,
  s: '온도 °C',
  by: Buffer.from([1, 2, 3]),
  fx: Buffer.from([7, 8, 9]),
  e: 'b',
  a: [1, -1, 2 ** 50],
  nulls: Array.from({ length: 1000 }, () => null),
  m: { 이름: '값', k: '' },
  u: { x: 3 },
  nested: [{ p: [{ x: 1 }, { x: 2 }] }, {}],
};

it.each([
  ['every type, valid', wide.toBuffer(value)],
  ['empty collections', wide.toBuffer({ ...value, a: [], nulls: [], m: {}, u: null, nested: [] })],
  ['a union on its string branch', wide.toBuffer({ ...value, u: 'x' })],
])('accepts %s', (_, buf) => {
  expect(() => checkAvroBounds(wide, buf)).not.toThrow();
  expect(() => wide.fromBuffer(buf)).not.toThrow();
});

const eventBatch = avro.Type.forSchema({
  type: 'record',
  name: 'B',
  fields: [{ name: 'events', type: { type: 'array', items: 'string' } }],
});

it.each([
  ['a block count of 268 M in 5 bytes', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01])],
  ['a positive block count beyond the body', Buffer.from([0x7e, 0x02, 0x61])],
  ['a string longer than the body', Buffer.from([0x02, 0x7e, 0x61])],
  ['a negative string length', Buffer.from([0x02, 0x03])],
  ['a number running off the end', Buffer.from([0x02, 0xff])],
  ['a number longer than 10 bytes', Buffer.from([0x02, ...Array(11).fill(0xff)])],
])('refuses %s', (_, buf) => {
  expect(() => checkAvroBounds(eventBatch, buf)).toThrow(AvroBoundsError);
});

it('refuses a union branch that does not exist and too many zero-size items', () => {
  const u = avro.Type.forSchema(['null', 'int']);
  expect(() => checkAvroBounds(u, Buffer.from([0x04]))).toThrow(AvroBoundsError);
  const nulls = avro.Type.forSchema({ type: 'array', items: 'null' });
  expect(() => checkAvroBounds(nulls, Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f, 0x00]))).toThrow(
    AvroBoundsError,
  );
});

it('an envelope batch of 5 poison bytes is refused as undecodable, at once (it exhausted memory before)', () => {
  const poison = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x01]);
  expect(() => decodeEventBatch(poison)).toThrow(/not a tmi.EventBatch/);
  expect(() => decodeEventHeads(poison)).toThrow(/not a tmi.EventBatch/);
  const ok = encodeEventBatch([]);
  expect(decodeEventBatch(ok)).toEqual([]);
});

// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  decodeEventBatch,
  decodeEventHeads,
  EnvelopeDecodeError,
  type EventEnvelope,
  encodeEventBatch,
} from '../../../schemas/index.js';

function envelope(n: number, attrs: Record<string, string>): EventEnvelope {
  return {
    event_id: `0190f3c4-0000-7000-8000-${String(n).padStart(12, '0')}`,
    target_id: '0190f3c4-0000-7000-8000-00000000aaaa',
    kind: 'vehicle',
    speaker: 'k1',
    occurred_at: 1_764_000_000_000_000 + n,
    received_at: 1_764_000_000_000_500,
    schema_id: 3 + n,
    payload: Buffer.from([n, 1, 2, 3]),
    attrs,
  };
}

describe('decodeEventHeads: the envelopes without their attributes', () => {
  it.each<[string, EventEnvelope[]]>([
    ['no attributes', [envelope(1, {})]],
    ['the REST attributes', [envelope(1, { source: 'http', remote_addr: '127.0.0.1', key_name: 'bench' })]],
    ['non-ASCII keys and values', [envelope(1, { 'très long ключ': '値 ✓', '': '' })]],
    [
      'three events, attributes of different sizes',
      [envelope(1, { a: 'x' }), envelope(2, {}), envelope(3, { b: 'y'.repeat(500) })],
    ],
    ['no event (a replay for another stage)', []],
  ])('%s: every other field as the whole decode reads it', (_name, events) => {
    const body = encodeEventBatch(events);
    const heads = decodeEventHeads(body);
    const whole = decodeEventBatch(body);
    expect(heads).toEqual(whole.map(({ attrs: _attrs, ...head }) => head));
    for (const h of heads) expect(Object.hasOwn(h, 'attrs')).toBe(false);
  });

  it.each<[string, Uint8Array]>([
    ['one event announced, none there', Buffer.from([0x02])],
    [
      'a batch with a trailing byte',
      Buffer.concat([encodeEventBatch([envelope(1, { a: 'b' })]), Buffer.from([0])]),
    ],
    [
      'a batch cut inside the attributes',
      encodeEventBatch([envelope(1, { source: 'http' })]).subarray(0, -3),
    ],
  ])('%s: EnvelopeDecodeError, like the whole decode', (_name, body) => {
    expect(() => decodeEventHeads(body)).toThrow(EnvelopeDecodeError);
    expect(() => decodeEventBatch(body)).toThrow(EnvelopeDecodeError);
  });
});

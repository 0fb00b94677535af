// SPDX-License-Identifier: MIT
// A stage that reads envelopes without their attributes still dead-letters the whole event.
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import {
  decodeEnvelopeHeads,
  decodePayloads,
  type EventDeadLetter,
  type StageMessage,
} from '../../../processors/index.js';
import { decodeEventBatch, encodeEventBatch } from '../../../schemas/index.js';
import { event } from '../../support/decoded.js';

describe('decodeEnvelopeHeads + decodePayloads', () => {
  it('an event whose payload cannot be decoded is dead-lettered with its attributes, its neighbours go on', () => {
    const events = ['001', '002', '003'].map((id, i) => ({
      ...event(id, 1_000 + i, {}).envelope,
      attrs: { source: 'http', remote_addr: `10.0.0.${i}` },
    }));
    const message: StageMessage = {
      seq: 9,
      subject: 'ns.norm.t',
      body: encodeEventBatch(events),
      headers: {},
      deliveryCount: 1,
    };
    const enveloped = decodeEnvelopeHeads([message]);
    expect(enveloped.deadLetters).toEqual([]);
    // schema 1 is known, the middle event names an unknown one
    const heads = enveloped.ok[0]!.envelopes.map((e, i) => (i === 1 ? { ...e, schema_id: 99 } : e));
    // the payloads are empty: an empty record's encoding
    const known = new Map([
      [1, { type: avro.Type.forSchema({ type: 'record', name: 'P', fields: [] }), fingerprint: 'f' }],
    ]);
    const decoded = decodePayloads(
      [{ message, envelopes: heads }],
      known as unknown as Parameters<typeof decodePayloads>[1],
    );
    expect(decoded.ok[0]!.events.map((e) => e.envelope.event_id)).toEqual([
      events[0]!.event_id,
      events[2]!.event_id,
    ]);
    const [dead] = decoded.deadLetters as EventDeadLetter[];
    expect(dead).toMatchObject({ code: 'PAYLOAD_UNDECODABLE', eventId: events[1]!.event_id, seq: 9 });
    expect(decodeEventBatch(dead!.body)).toEqual([events[1]]);
  });
});

// SPDX-License-Identifier: MIT
// Decoded events and messages for the pure cores' tables of cases.
import type { DecodedMessage } from '../../processors/index.js';
import type { EventEnvelope } from '../../schemas/index.js';

export const target = '0190f3c4-0000-7000-8000-000000000001';
export const other = '0190f3c4-0000-7000-8000-000000000002';

/** An event with id `…-<id>` of `targetId` observed at `occurredAt` µs. */
export function event(id: string, occurredAt: number, data: Record<string, unknown>, targetId = target) {
  const envelope: EventEnvelope = {
    event_id: `0190f3c4-0000-7000-8000-${id.padStart(12, '0')}`,
    target_id: targetId,
    kind: 'k',
    speaker: 'test',
    occurred_at: occurredAt,
    received_at: 5_000_000,
    schema_id: 1,
    payload: Buffer.alloc(0),
    attrs: {},
  };
  return { envelope, data };
}

/** One message per event, stream sequences 1, 2, … */
export function messages(...events: ReturnType<typeof event>[]): DecodedMessage[] {
  return events.map((e, i) => ({
    message: { seq: i + 1, subject: 's', body: new Uint8Array(), headers: {}, deliveryCount: 1 },
    events: [e],
  }));
}

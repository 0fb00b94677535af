// SPDX-License-Identifier: MIT
// capture, pure core: every event as it was accepted, with its transport headers → raw_bucket rows.
import type { RawRow } from '../projections/index.js';
import type { EventEnvelope } from '../schemas/index.js';
import type { DecodedMessage } from './decode.js';

export function captureRows(messages: readonly DecodedMessage<EventEnvelope>[]): RawRow[] {
  const rows: RawRow[] = [];
  for (const { message, events } of messages) {
    const nats = { subject: message.subject, ...message.headers };
    // Events of one message nearly always come from one write, with the same attrs: one headers object.
    let attrs: Readonly<Record<string, string>> | undefined;
    let headers: Record<string, unknown> = {};
    for (const { envelope, data } of events) {
      if (attrs === undefined || !sameAttrs(attrs, envelope.attrs)) {
        attrs = envelope.attrs;
        headers = { ...attrs, nats };
      }
      rows.push({
        event_id: envelope.event_id,
        target_id: envelope.target_id,
        kind: envelope.kind,
        speaker: envelope.speaker,
        occurred_us: envelope.occurred_at,
        received_us: envelope.received_at,
        schema_id: envelope.schema_id,
        stream_seq: message.seq,
        payload: data,
        headers,
      });
    }
  }
  return rows;
}

function sameAttrs(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const key in a) {
    if (a[key] !== b[key]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

// SPDX-License-Identifier: MIT
// capture, pure core: every event as it was accepted, with its transport headers → raw_bucket rows.
import type { RawRow } from '../projections/index.js';
import { microsToIso } from '../schemas/index.js';
import type { DecodedMessage } from './decode.js';

export function captureRows(messages: readonly DecodedMessage[]): RawRow[] {
  const rows: RawRow[] = [];
  for (const { message, events } of messages) {
    for (const { envelope, data } of events) {
      rows.push({
        event_id: envelope.event_id,
        target_id: envelope.target_id,
        kind: envelope.kind,
        speaker: envelope.speaker,
        occurred_at: microsToIso(envelope.occurred_at),
        received_at: microsToIso(envelope.received_at),
        schema_id: envelope.schema_id,
        stream_seq: message.seq,
        payload: JSON.stringify(data),
        headers: JSON.stringify({
          ...envelope.attrs,
          nats: { subject: message.subject, ...message.headers },
        }),
      });
    }
  }
  return rows;
}

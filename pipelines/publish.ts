// SPDX-License-Identifier: MIT
// Publishes many messages with a bounded number in flight and waits for every PubAck: never one awaited
// publish at a time (JetStream's per-message round trip is the first ceiling on ingest).
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { OutboundMessage } from '../processors/index.js';
import { publishInFlightMax } from './limits.js';

export async function publishAll(
  js: JetStreamClient,
  messages: readonly OutboundMessage[],
): Promise<PubAck[]> {
  const acks: PubAck[] = new Array(messages.length);
  let next = 0;
  const worker = async () => {
    while (next < messages.length) {
      const i = next++;
      const m = messages[i]!;
      let h: ReturnType<typeof natsHeaders> | undefined;
      if (m.headers) {
        h = natsHeaders();
        for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
      }
      acks[i] = await js.publish(m.subject, m.body, { msgID: m.msgID, headers: h });
    }
  };
  const workers = Math.min(publishInFlightMax, messages.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return acks;
}

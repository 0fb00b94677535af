// SPDX-License-Identifier: MIT
// The NATS speaker connector: request on `<ns>.speak.<target_id>` with a JSON body — one event
// `{ts?, event_id?, data}` or an array of them. Reply `{event_id, seq}` (or `{event_ids, seqs}` for an
// array) after the PubAck; `{error: {status, code, detail}}` otherwise. A queue group spreads requests
// over every process that serves the connector.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { type AcceptContext, accept } from './accept.js';
import { WriteRejectedError } from './errors.js';

export const speakQueueGroup = 'tmidb-speak';

export interface NatsSpeakerConnector {
  readonly subscription: Subscription;
  stop(): Promise<void>;
}

export function startNatsSpeaker(nc: NatsConnection, ctx: AcceptContext): NatsSpeakerConnector {
  const prefix = ctx.topology.speakPrefix;
  const subscription = nc.subscribe(ctx.topology.speakWildcard, {
    queue: speakQueueGroup,
    callback: (err, msg) => {
      if (err) return;
      void handleSpeak(ctx, prefix, msg);
    },
  });
  return {
    subscription,
    stop: async () => {
      await subscription.drain();
    },
  };
}

async function handleSpeak(ctx: AcceptContext, prefix: string, msg: Msg): Promise<void> {
  try {
    const targetId = msg.subject.slice(prefix.length);
    if (msg.data.length > ctx.config.bodyBytesMax) {
      throw new WriteRejectedError(
        413,
        'BODY_TOO_LARGE',
        `the message body is ${msg.data.length} bytes; at most ${ctx.config.bodyBytesMax} are accepted`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(msg.data));
    } catch (err) {
      throw new WriteRejectedError(
        400,
        'MALFORMED_JSON',
        `the message body is not valid JSON: ${(err as Error).message}`,
      );
    }
    const single = !Array.isArray(body);
    const items = single ? [body] : (body as unknown[]);
    const writes = items.map((item) =>
      item !== null && typeof item === 'object' && !Array.isArray(item)
        ? { ...(item as object), target_id: targetId }
        : item,
    );
    const result = await accept(ctx, writes, {
      speaker: 'nats',
      transport: 'nats',
      attrs: { source: 'nats', subject: msg.subject },
      idempotencyKey: msg.headers?.get('Idempotency-Key') || undefined,
    });
    reply(
      msg,
      single
        ? { event_id: result.event_ids[0], seq: result.seqs[0] }
        : { accepted: result.accepted, event_ids: result.event_ids, seqs: result.seqs },
    );
  } catch (err) {
    const e = err as { status?: number; code?: string; message?: string };
    const status = typeof e.status === 'number' ? e.status : 503;
    reply(msg, {
      error: {
        status,
        code: e.code ?? 'UNAVAILABLE',
        detail: status >= 500 ? 'the event could not be stored; retry with the same event_id' : e.message,
      },
    });
  }
}

function reply(msg: Msg, body: unknown): void {
  if (msg.reply) msg.respond(JSON.stringify(body));
}

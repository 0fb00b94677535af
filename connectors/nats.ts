// SPDX-License-Identifier: MIT
// The NATS speaker connector: request on `<ns>.speak.<target_id>` with a JSON body — one event
// `{ts?, event_id?, data}` or an array of them. Reply `{event_id, seq}` (or `{event_ids, seqs}` for an
// array) after the PubAck; `{error: {status, code, detail}}` otherwise. A queue group spreads requests
// over every process that serves the connector. The speaker authenticates with a NATS header
// `Authorization: Bearer <API key or token>` on every request (checked by `authenticate`, which the
// runtime wires to the API's key store): 401 without a valid one, 403 for a key that may not speak, and
// a target outside its grants answers 404 TARGET_NOT_FOUND like an unknown one.
import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { isClientError, RequestRejectedError } from '../errors/index.js';
import { type AcceptContext, accept } from './accept.js';
import { answerOfUnexpected } from './unexpected.js';

export const speakQueueGroup = 'tmidb-speak';

type SpeakLog = (level: 'error', msg: string) => void;

/** Who a request comes from, once its Authorization header checked out. */
export interface SpeakerIdentity {
  readonly speaker: string;
  readonly allows?: (targetId: string, kind: string) => boolean;
  readonly attrs?: Readonly<Record<string, string>>;
}

/** Checks a request's Authorization header; throws a RequestRejectedError (401/403/429) to refuse it. */
export type SpeakerAuthenticator = (authorization: string | undefined) => Promise<SpeakerIdentity>;

/** No authentication (TMIDB_AUTH=off): every request speaks as `nats`. */
export const anonymousNatsSpeaker: SpeakerAuthenticator = async () => ({ speaker: 'nats' });

export interface NatsSpeakerConnector {
  readonly subscription: Subscription;
  stop(): Promise<void>;
}

export function startNatsSpeaker(
  nc: NatsConnection,
  ctx: AcceptContext,
  /** Required: a connector without authentication must say so (`anonymousNatsSpeaker`). */
  authenticate: SpeakerAuthenticator,
  /** Every 5xx answer leaves a line here with its request id. */
  log?: SpeakLog,
): NatsSpeakerConnector {
  const prefix = ctx.topology.speakPrefix;
  const subscription = nc.subscribe(ctx.topology.speakWildcard, {
    queue: speakQueueGroup,
    callback: (err, msg) => {
      if (err) return;
      void handleSpeak(ctx, prefix, msg, authenticate, log);
    },
  });
  return {
    subscription,
    stop: async () => {
      await subscription.drain();
    },
  };
}

async function handleSpeak(
  ctx: AcceptContext,
  prefix: string,
  msg: Msg,
  authenticate: SpeakerAuthenticator,
  log: SpeakLog | undefined,
): Promise<void> {
  try {
    const who = await authenticate(msg.headers?.get('Authorization') || undefined);
    const targetId = msg.subject.slice(prefix.length);
    if (msg.data.length > ctx.config.bodyBytesMax) {
      throw new RequestRejectedError(
        'BODY_TOO_LARGE',
        `the message body is ${msg.data.length} bytes; at most ${ctx.config.bodyBytesMax} are accepted`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(msg.data));
    } catch (err) {
      throw new RequestRejectedError(
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
      speaker: who.speaker,
      allows: who.allows,
      transport: 'nats',
      attrs: { source: 'nats', subject: msg.subject, ...who.attrs },
      idempotencyKey: msg.headers?.get('Idempotency-Key') || undefined,
    });
    reply(
      msg,
      single
        ? { event_id: result.event_ids[0], seq: result.seqs[0] }
        : { accepted: result.accepted, event_ids: result.event_ids, seqs: result.seqs },
    );
  } catch (err) {
    const requestId = msg.headers?.get('X-Request-Id') || randomUUID();
    const answer = isClientError(err)
      ? { status: err.status, code: err.code, detail: err.message }
      : answerOfUnexpected(err, requestId);
    if (answer.status >= 500) {
      log?.(
        'error',
        `request ${requestId} NATS ${msg.subject} → ${answer.status} ${answer.code}: ${(err as Error)?.stack ?? err}`,
      );
    }
    reply(msg, { error: answer });
  }
}

function reply(msg: Msg, body: unknown): void {
  if (msg.reply) msg.respond(JSON.stringify(body));
}

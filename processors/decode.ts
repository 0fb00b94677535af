// SPDX-License-Identifier: MIT
// Pure decoding shared by the stages: message bodies → envelopes → JSON payloads. A message that cannot
// be decoded is poison: it becomes a dead letter, never an exception that blocks its batch.
import {
  decodeEventBatch,
  decodeEventHeads,
  decodePayload,
  type EnvelopeHead,
  type EventEnvelope,
  type RegisteredSchema,
} from '../schemas/index.js';
import { eventDeadLetter, replaySkipHeader } from './poison.js';
import type { DeadLetter, StageMessage } from './types.js';

/** An event as a stage reads it: the envelope (without attributes unless the stage asks) and the payload. */
export interface DecodedEvent<E extends EnvelopeHead = EnvelopeHead> {
  readonly envelope: E;
  readonly data: Record<string, unknown>;
}

export interface DecodedMessage<E extends EnvelopeHead = EnvelopeHead> {
  readonly message: StageMessage;
  readonly events: readonly DecodedEvent<E>[];
}

export interface EnvelopedMessage<E extends EnvelopeHead = EventEnvelope> {
  readonly message: StageMessage;
  readonly envelopes: readonly E[];
}

export interface Enveloped<E extends EnvelopeHead> {
  ok: EnvelopedMessage<E>[];
  deadLetters: DeadLetter[];
}

/** Whole envelopes, attributes included (capture keeps them; normalize republishes them). */
export function decodeEnvelopes(batch: readonly StageMessage[]): Enveloped<EventEnvelope> {
  return decodeEach(batch, decodeEventBatch);
}

/** Envelopes without their attributes: what project, geo, alarm and fanout read. */
export function decodeEnvelopeHeads(batch: readonly StageMessage[]): Enveloped<EnvelopeHead> {
  return decodeEach(batch, decodeEventHeads);
}

function decodeEach<E extends EnvelopeHead>(
  batch: readonly StageMessage[],
  decode: (body: Uint8Array) => E[],
): Enveloped<E> {
  const ok: EnvelopedMessage<E>[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const message of batch) {
    try {
      const envelopes = decode(message.body);
      // A replay for another stage reaches this one emptied (processors/poison.ts): nothing to do.
      if (envelopes.length === 0 && message.headers[replaySkipHeader] === undefined) {
        throw new Error('message carries no event');
      }
      ok.push({ message, envelopes });
    } catch (err) {
      deadLetters.push({ seq: message.seq, code: 'ENVELOPE_UNDECODABLE', reason: (err as Error).message });
    }
  }
  return { ok, deadLetters };
}

export function schemaIdsOf(messages: readonly EnvelopedMessage<EnvelopeHead>[]): number[] {
  const ids = new Set<number>();
  for (const m of messages) for (const e of m.envelopes) ids.add(e.schema_id);
  return [...ids];
}

/**
 * Decodes every payload with its writer schema (looked up in `schemas`, loaded beforehand). An event that
 * cannot be decoded is a dead letter of its own; the other events of its message go on.
 */
export function decodePayloads<E extends EnvelopeHead>(
  messages: readonly EnvelopedMessage<E>[],
  schemas: ReadonlyMap<number, RegisteredSchema>,
): { ok: DecodedMessage<E>[]; deadLetters: DeadLetter[] } {
  const ok: DecodedMessage<E>[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const { message, envelopes } of messages) {
    const events: DecodedEvent<E>[] = [];
    for (const envelope of envelopes) {
      try {
        const writer = schemas.get(envelope.schema_id);
        if (!writer) throw new Error(`unknown writer schema_id ${envelope.schema_id}`);
        events.push({ envelope, data: decodePayload(writer, envelope.payload) });
      } catch (err) {
        deadLetters.push(eventDeadLetter(message, envelope, 'PAYLOAD_UNDECODABLE', (err as Error).message));
      }
    }
    if (events.length > 0 || envelopes.length === 0) ok.push({ message, events });
  }
  return { ok, deadLetters };
}

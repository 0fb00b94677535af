// SPDX-License-Identifier: MIT
import type { PoolClient } from '../db/index.js';
import { claimEvents } from '../projections/index.js';
import type { EnvelopeHead, EventEnvelope, RegisteredSchema, SchemaRegistry } from '../schemas/index.js';
import {
  type DecodedMessage,
  decodeEnvelopeHeads,
  decodeEnvelopes,
  decodePayloads,
  type Enveloped,
  schemaIdsOf,
} from './decode.js';
import type { DeadLetter, StageMessage } from './types.js';

/**
 * Decodes a batch: envelopes without their attributes, then payloads with their writer schemas (cached by
 * the registry).
 */
export function decodeBatch(
  registry: SchemaRegistry,
  batch: readonly StageMessage[],
): Promise<{ decoded: DecodedMessage[]; deadLetters: DeadLetter[] }> {
  return decodeWith(registry, decodeEnvelopeHeads(batch));
}

/** decodeBatch with whole envelopes, attributes included (capture keeps them in raw_bucket). */
export function decodeWholeBatch(
  registry: SchemaRegistry,
  batch: readonly StageMessage[],
): Promise<{ decoded: DecodedMessage<EventEnvelope>[]; deadLetters: DeadLetter[] }> {
  return decodeWith(registry, decodeEnvelopes(batch));
}

async function decodeWith<E extends EnvelopeHead>(
  registry: SchemaRegistry,
  enveloped: Enveloped<E>,
): Promise<{ decoded: DecodedMessage<E>[]; deadLetters: DeadLetter[] }> {
  const schemas = new Map<number, RegisteredSchema>();
  for (const id of schemaIdsOf(enveloped.ok)) {
    const schema = await registry.byId(id).catch(() => undefined);
    if (schema) schemas.set(id, schema);
  }
  const payloads = decodePayloads(enveloped.ok, schemas);
  return { decoded: payloads.ok, deadLetters: [...enveloped.deadLetters, ...payloads.deadLetters] };
}

export function maxSeq(batch: readonly StageMessage[]): number {
  return batch.reduce((max, m) => Math.max(max, m.seq), 0);
}

export function eventCount(messages: readonly DecodedMessage<EnvelopeHead>[]): number {
  return messages.reduce((n, m) => n + m.events.length, 0);
}

/**
 * The events of the batch this stage has not applied before (claimed in its ledger inside the caller's
 * transaction), each once: redeliveries and late client retries of an event id are dropped here.
 */
export async function claimNewEvents<E extends EnvelopeHead>(
  client: PoolClient,
  consumer: string,
  messages: readonly DecodedMessage<E>[],
): Promise<DecodedMessage<E>[]> {
  const claims: { event_id: string; received_us: number }[] = [];
  for (const m of messages) {
    for (const { envelope } of m.events) {
      claims.push({ event_id: envelope.event_id, received_us: envelope.received_at });
    }
  }
  const claimed = await claimEvents(client, consumer, claims);
  if (claimed === 'all') return [...messages];
  const out: DecodedMessage<E>[] = [];
  for (const m of messages) {
    const events = m.events.filter((e) => claimed.delete(e.envelope.event_id));
    if (events.length > 0) out.push({ message: m.message, events });
  }
  return out;
}

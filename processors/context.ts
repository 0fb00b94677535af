// SPDX-License-Identifier: MIT
import type { RegisteredSchema, SchemaRegistry } from '../schemas/index.js';
import { type DecodedMessage, decodeEnvelopes, decodePayloads, schemaIdsOf } from './decode.js';
import type { DeadLetter, StageMessage } from './types.js';

/** Decodes a batch: envelopes, then payloads with their writer schemas (cached by the registry). */
export async function decodeBatch(
  registry: SchemaRegistry,
  batch: readonly StageMessage[],
): Promise<{ decoded: DecodedMessage[]; deadLetters: DeadLetter[] }> {
  const enveloped = decodeEnvelopes(batch);
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

export function eventCount(messages: readonly DecodedMessage[]): number {
  return messages.reduce((n, m) => n + m.events.length, 0);
}

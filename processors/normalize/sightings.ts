// SPDX-License-Identifier: MIT
// Which fields of a batch are new to their kind, and their first values: what the FieldNormalizer is
// asked about. Cheap when nothing is new (the common case): a writer schema whose every top-level field
// is decided is remembered, so most batches cost one set lookup per event.
import type { RegisteredSchema } from '../../schemas/index.js';
import { decodePayloads, type EnvelopedMessage } from '../decode.js';
import type { FieldNormalizer, FieldSighting } from './field-normalizer.js';
import type { MappingRule } from './normalize-core.js';

/** Decides the batch's new fields; returns how many mapping rules that created. */
export async function decideNewFields(
  normalizer: FieldNormalizer,
  messages: readonly EnvelopedMessage[],
  writers: ReadonlyMap<number, RegisteredSchema>,
  rules: readonly MappingRule[],
): Promise<number> {
  const kinds = new Set<string>();
  for (const m of messages) for (const e of m.envelopes) kinds.add(e.kind);
  await normalizer.prepare(kinds);
  const fresh = messages.filter((m) =>
    m.envelopes.some((e) => {
      const writer = writers.get(e.schema_id);
      if (writer === undefined || normalizer.schemaDecided(e.kind, writer.schemaId)) return false;
      const open = writer.schema.fields.some((f) => normalizer.undecided(e.kind, f.name));
      if (!open) normalizer.markSchemaDecided(e.kind, writer.schemaId);
      return open;
    }),
  );
  if (fresh.length === 0) return 0;
  const sightings: FieldSighting[] = [];
  for (const m of decodePayloads(fresh, writers).ok) {
    for (const { envelope, data } of m.events) {
      for (const [field, value] of Object.entries(data)) {
        if (!normalizer.undecided(envelope.kind, field)) continue;
        sightings.push({
          kind: envelope.kind,
          field,
          value,
          eventId: envelope.event_id,
          receivedAtMicros: envelope.received_at,
        });
      }
    }
  }
  return normalizer.decideNew(sightings, rules);
}

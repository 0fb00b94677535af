// SPDX-License-Identifier: MIT
// normalize: TMI_IN → mapping rules → TMI_NORM. The output message id is derived from the input event
// ids, so a redelivered batch republishes duplicates that JetStream drops.
import { withTransaction } from '../db/index.js';
import { loadAllMappingRules, type MappingRuleRow, saveCheckpoint } from '../projections/index.js';
import { batchMessageId, type EventEnvelope, encodeEventBatch, encodePayload } from '../schemas/index.js';
import { decodeBatch, eventCount, maxSeq } from './context.js';
import type { DecodedMessage } from './decode.js';
import { applyRules, type MappingRule, rulesInForce } from './normalize-core.js';
import type { OutboundMessage, StageDeps, StageHandler } from './types.js';

/** Subject of the registry under which normalized payloads of a kind are versioned. */
export function normalizedSubject(kind: string): string {
  return `${kind}#norm`;
}

/** Rules are re-read when the batch holds events received after (or just before) the last read. */
const rulesFreshnessMarginMicros = 2_000_000;

export function normalizeStage(deps: StageDeps): StageHandler {
  let rules: MappingRule[] = [];
  let rulesLoadedAtMicros = Number.NEGATIVE_INFINITY;

  async function rulesCovering(decoded: readonly DecodedMessage[]): Promise<MappingRule[]> {
    let newest = 0;
    for (const m of decoded) for (const e of m.events) newest = Math.max(newest, e.envelope.received_at);
    if (newest >= rulesLoadedAtMicros - rulesFreshnessMarginMicros) {
      const loadedAt = Date.now() * 1000;
      rules = (await loadAllMappingRules(deps.pool)).map(toRule);
      rulesLoadedAtMicros = loadedAt;
    }
    return rules;
  }

  return {
    stage: 'normalize',
    async handle(batch) {
      const { decoded, deadLetters } = await decodeBatch(deps.registry, batch);
      const allRules = await rulesCovering(decoded);
      const normalized = decoded.map((m) => ({
        message: m.message,
        events: m.events.map(({ envelope, data }) => ({
          envelope,
          data: applyRules(
            data,
            rulesInForce(allRules, {
              kind: envelope.kind,
              targetId: envelope.target_id,
              receivedAtMicros: envelope.received_at,
            }),
          ),
        })),
      }));
      const outbound = await encodeNormalized(deps, normalized);
      await deps.publish(outbound);
      await withTransaction(deps.pool, (client) =>
        saveCheckpoint(client, deps.checkpointName, deps.inputStream, maxSeq(batch), eventCount(decoded)),
      );
      return { events: eventCount(decoded), deadLetters };
    },
  };
}

async function encodeNormalized(
  deps: StageDeps,
  messages: readonly DecodedMessage[],
): Promise<OutboundMessage[]> {
  const byKind = new Map<string, Record<string, unknown>[]>();
  for (const m of messages) {
    for (const e of m.events) {
      const list = byKind.get(e.envelope.kind) ?? [];
      list.push(e.data);
      byKind.set(e.envelope.kind, list);
    }
  }
  const schemas = new Map<string, Awaited<ReturnType<typeof deps.registry.ensure>>>();
  for (const [kind, datas] of byKind)
    schemas.set(kind, await deps.registry.ensure(normalizedSubject(kind), datas));
  return messages.map(({ events }) => {
    const envelopes: EventEnvelope[] = events.map(({ envelope, data }) => {
      const schema = schemas.get(envelope.kind)!;
      return { ...envelope, schema_id: schema.schemaId, payload: encodePayload(schema, data) };
    });
    const first = envelopes[0]!;
    return {
      subject: deps.outputSubject(first.target_id),
      body: encodeEventBatch(envelopes),
      msgID: batchMessageId(
        envelopes.map((e) => e.event_id),
        ':normalize',
      ),
    };
  });
}

function toRule(row: MappingRuleRow): MappingRule {
  return {
    ruleId: row.rule_id,
    kind: row.kind,
    targetId: row.target_id,
    field: row.field,
    action: row.action,
    toField: row.to_field,
    scale: row.scale,
    offset: row.offset,
    position: row.position,
    createdAtMicros: row.created_us,
    deletedAtMicros: row.deleted_us,
  };
}

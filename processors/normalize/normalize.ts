// SPDX-License-Identifier: MIT
// normalize: TMI_IN → mapping rules → TMI_NORM. The output message id is derived from the input event
// ids, so a redelivered batch republishes duplicates that JetStream drops.
import { CheckpointWriter } from '../../projections/index.js';
import {
  batchMessageId,
  type EventEnvelope,
  encodeEventBatch,
  encodePayload,
  type RegisteredSchema,
} from '../../schemas/index.js';
import { eventCount, maxSeq } from '../batch.js';
import {
  type DecodedMessage,
  decodeEnvelopes,
  decodePayloads,
  type EnvelopedMessage,
  schemaIdsOf,
} from '../decode.js';
import type { OutboundMessage, StageDeps, StageHandler } from '../types.js';
import { recordClashes } from './clashes.js';
import { type CompiledRules, CompiledRulesCache } from './compiled-rules.js';
import type { FieldNormalizer } from './field-normalizer.js';
import { applyRules, type Clash, type MappingRule, rulesForBatch } from './normalize-core.js';
import { MappingRulesCache } from './rules-cache.js';
import { decideNewFields } from './sightings.js';

/** Subject of the registry under which normalized payloads of a kind are versioned. */
export function normalizedSubject(kind: string): string {
  return `${kind}#norm`;
}

/** What the normalize stage needs besides the common dependencies. */
export interface NormalizeStageDeps extends StageDeps {
  /** Publishes and resolves once every PubAck is in. */
  readonly publish: (messages: readonly OutboundMessage[]) => Promise<void>;
  /** Subject of a target's normalized events, `<ns>.norm.<target_id>`. */
  readonly outputSubject: (targetId: string) => string;
  /** Decides fields new to their kind (the ONNX model, rules, vocabulary); absent: rules only. */
  readonly normalizer?: FieldNormalizer;
}

export function normalizeStage(deps: NormalizeStageDeps): StageHandler {
  const cache = new MappingRulesCache(deps.pool, deps.nowMicros);
  const transforms = new CompiledRulesCache();
  // The batch's output is in JetStream (deduplicated by message id) before its checkpoint is written, so
  // the checkpoint is written beside the batches (ADR 0035), and need not wait for its WAL flush: a
  // checkpoint lost in a crash of PostgreSQL is overtaken by the next one.
  const checkpoint = new CheckpointWriter({
    pool: deps.pool,
    consumer: deps.checkpointName,
    stream: deps.inputStream,
    synchronousCommit: false,
  });
  const rulesCovering = async (messages: readonly EnvelopedMessage[]) => {
    let newest = 0;
    for (const m of messages) for (const e of m.envelopes) newest = Math.max(newest, e.received_at);
    return cache.covering(newest);
  };

  return {
    stage: 'normalize',
    async handle(batch) {
      const enveloped = decodeEnvelopes(batch);
      const writers = new Map<number, RegisteredSchema>();
      for (const id of schemaIdsOf(enveloped.ok)) {
        const schema = await deps.registry.byId(id).catch(() => undefined);
        if (schema) writers.set(id, schema);
      }
      let allRules = await rulesCovering(enveloped.ok);
      if (deps.normalizer !== undefined) {
        // Fields new to their kind are decided (once, persisted) before any event of the batch is mapped.
        if ((await decideNewFields(deps.normalizer, enveloped.ok, writers, allRules)) > 0) {
          cache.invalidate();
          allRules = await rulesCovering(enveloped.ok);
        }
      }
      const rulesOf = rulesForBatch(allRules);
      // Fast paths (fastPath): a message whose every event passes through or has a compiled transform
      // goes on without its payloads becoming plain JSON; everything else (and the first batch of a kind,
      // which registers its normalized subject) takes the full path below.
      const outbound: (OutboundMessage | undefined)[] = new Array(enveloped.ok.length);
      const full: EnvelopedMessage[] = [];
      const fullAt: number[] = [];
      let events = 0;
      enveloped.ok.forEach((m, i) => {
        if (m.envelopes.length === 0) return; // a replay for another stage: nothing to pass on
        const fast = fastPath(m.envelopes, writers, rulesOf, deps.registry, transforms);
        if (fast === undefined) {
          full.push(m);
          fullAt.push(i);
          return;
        }
        outbound[i] = outboundMessage(deps, fast);
        events += fast.length;
      });
      const decoded = decodePayloads(full, writers);
      const clashes: { kind: string; clash: Clash; value: unknown }[] = [];
      const normalized = decoded.ok.map((m) => ({
        message: m.message,
        events: m.events.map(({ envelope, data }) => {
          const inForce = rulesOf(envelope);
          // Without a rule in force the data passes as decoded (no copy: nothing else holds it).
          if (inForce.length === 0) return { envelope, data };
          const onClash = (clash: Clash) =>
            clashes.push({ kind: envelope.kind, clash, value: data[clash.field] });
          return { envelope, data: applyRules(data, inForce, onClash) };
        }),
      }));
      if (deps.normalizer !== undefined && clashes.length > 0) await recordClashes(deps.normalizer, clashes);
      const encoded = await encodeNormalized(deps, normalized);
      const fullIndex = new Map(full.map((m, k) => [m.message.seq, fullAt[k]!]));
      normalized.forEach((m, k) => {
        outbound[fullIndex.get(m.message.seq)!] = encoded[k]!;
      });
      events += eventCount(decoded.ok);
      await deps.publish(outbound.filter((o): o is OutboundMessage => o !== undefined));
      checkpoint.record(maxSeq(batch), events);
      return { events, deadLetters: [...enveloped.deadLetters, ...decoded.deadLetters] };
    },
    close: () => checkpoint.finish(),
  };
}

/**
 * The envelopes with their normalized payloads, or undefined when any needs the full path. An event with
 * no rule in force whose writer schema is the normalized subject's latest shape (the same fingerprint: the
 * same Avro encoding) passes as it is, relabelled with the normalized schema id; any other goes through
 * the transform compiled for its writer schema, rules and the normalized subject's latest version
 * (compiled-rules.ts), when there is one — the same bytes the full path would give.
 */
function fastPath(
  envelopes: readonly EventEnvelope[],
  writers: ReadonlyMap<number, RegisteredSchema>,
  rulesOf: (envelope: EventEnvelope) => readonly MappingRule[],
  registry: StageDeps['registry'],
  transforms: CompiledRulesCache,
): EventEnvelope[] | undefined {
  const out: EventEnvelope[] = [];
  // The events of a message are one target's, almost always of one writer schema under the same rules.
  let last:
    | {
        writer: RegisteredSchema;
        rules: readonly MappingRule[];
        norm: RegisteredSchema;
        transform: CompiledRules;
      }
    | undefined;
  for (const envelope of envelopes) {
    const writer = writers.get(envelope.schema_id);
    const norm = registry.cachedLatest(normalizedSubject(envelope.kind));
    if (writer === undefined || norm === undefined) return undefined;
    const rules = rulesOf(envelope);
    if (rules.length === 0 && norm.fingerprint === writer.fingerprint) {
      out.push(norm.schemaId === envelope.schema_id ? envelope : { ...envelope, schema_id: norm.schemaId });
      continue;
    }
    if (last?.writer !== writer || last.rules !== rules || last.norm !== norm) {
      const transform = transforms.get(writer, rules, norm);
      if (transform === undefined) return undefined;
      last = { writer, rules, norm, transform };
    }
    const transform = last.transform;
    try {
      out.push({ ...envelope, schema_id: norm.schemaId, payload: transform(envelope.payload) });
    } catch {
      return undefined; // undecodable, or a conversion the full path refuses: it says why
    }
  }
  return out;
}

function outboundMessage(deps: NormalizeStageDeps, envelopes: readonly EventEnvelope[]): OutboundMessage {
  return {
    subject: deps.outputSubject(envelopes[0]!.target_id),
    body: encodeEventBatch(envelopes),
    msgID: batchMessageId(
      envelopes.map((e) => e.event_id),
      ':normalize',
    ),
  };
}

async function encodeNormalized(
  deps: NormalizeStageDeps,
  messages: readonly DecodedMessage<EventEnvelope>[],
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
  return messages.map(({ events }) =>
    outboundMessage(
      deps,
      events.map(({ envelope, data }) => {
        const schema = schemas.get(envelope.kind)!;
        return { ...envelope, schema_id: schema.schemaId, payload: encodePayload(schema, data) };
      }),
    ),
  );
}

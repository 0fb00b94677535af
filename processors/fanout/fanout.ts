// SPDX-License-Identifier: MIT
// fanout: TMI_NORM → one copy per subscribed listener, masked to its fields, on
// `<ns>.listen.<listener_id>.<target_id>` (TMI_LISTEN). Message ids `<event_id>:<listener_id>` make a
// redelivered batch republish duplicates that JetStream drops; the runner acks a batch after every PubAck
// is in, and its checkpoint is written beside the batches (ADR 0035).
import { CheckpointWriter } from '../../projections/index.js';
import { microsToIso } from '../../schemas/index.js';
import { decodeBatch, eventCount, maxSeq } from '../batch.js';
import { type DecodedMessage, decodeEnvelopeHeads } from '../decode.js';
import type { DeadLetter, OutboundMessage, StageDeps, StageHandler } from '../types.js';
import {
  type FanoutAlarm,
  type FanoutEvent,
  fanoutAlarms,
  fanoutEvents,
  type ListenOutput,
  parseAlarmMessage,
  targetsMissingMeta,
} from './fanout-core.js';
import type { SubscriptionSnapshot, SubscriptionSource } from './subscription-cache.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What the fanout stages need besides the common dependencies. */
export interface FanoutStageDeps extends StageDeps {
  /** Publishes and resolves once every PubAck is in. */
  readonly publish: (messages: readonly OutboundMessage[]) => Promise<void>;
  /** Subject of a listener's copy of an event, `<ns>.listen.<listener_id>.<target_id>`. */
  readonly listenSubject: (listenerId: string, targetId: string) => string;
  /** The compiled subscriptions, reloaded when listeners or targets change. */
  readonly subscriptions: SubscriptionSource;
}

export function fanoutStage(deps: FanoutStageDeps): StageHandler {
  const { subscriptions: source, listenSubject } = deps;
  const checkpoint = checkpointWriter(deps);
  return {
    stage: 'fanout',
    async handle(batch) {
      let snapshot = await source.current();
      let events = 0;
      const deadLetters: DeadLetter[] = [];
      if (snapshot.index.size > 0) {
        const decoded = await decodeBatch(deps.registry, batch);
        deadLetters.push(...decoded.deadLetters);
        events = eventCount(decoded.decoded);
        const list = toFanoutEvents(decoded.decoded);
        snapshot = await withKnownMeta(source, snapshot, list);
        const outputs = fanoutEvents(snapshot.index, list, (id) => snapshot.meta.get(id));
        await deps.publish(outputs.map((o) => toMessage(o, listenSubject)));
      } else {
        // Nobody listens: no payload to decode, nothing to publish; only the checkpoint moves.
        const enveloped = decodeEnvelopeHeads(batch);
        deadLetters.push(...enveloped.deadLetters);
        events = enveloped.ok.reduce((n, m) => n + m.envelopes.length, 0);
      }
      checkpoint.record(maxSeq(batch), events);
      return { events, deadLetters };
    },
    close: () => checkpoint.finish(),
  };
}

/**
 * fanout-alarm: TMI_ALARM → the transitions, masked, to the listeners whose subscriptions ask for alarms.
 * Message ids `<alarm_id>:<transition>:<listener_id>`.
 */
export function fanoutAlarmStage(deps: FanoutStageDeps): StageHandler {
  const { subscriptions: source, listenSubject } = deps;
  const checkpoint = checkpointWriter(deps);
  return {
    stage: 'fanout-alarm',
    async handle(batch) {
      let snapshot = await source.current();
      const deadLetters: DeadLetter[] = [];
      const alarms: FanoutAlarm[] = [];
      for (const m of batch) {
        let parsed: FanoutAlarm | undefined;
        try {
          parsed = parseAlarmMessage(JSON.parse(decoder.decode(m.body)));
        } catch {
          parsed = undefined;
        }
        if (parsed) alarms.push(parsed);
        else
          deadLetters.push({ seq: m.seq, code: 'ALARM_UNDECODABLE', reason: 'not a JSON alarm transition' });
      }
      if (snapshot.index.size > 0 && alarms.length > 0) {
        snapshot = await withKnownMeta(source, snapshot, alarms);
        const outputs = fanoutAlarms(snapshot.index, alarms, (id) => snapshot.meta.get(id));
        await deps.publish(outputs.map((o) => toMessage(o, listenSubject)));
      }
      checkpoint.record(maxSeq(batch), alarms.length);
      return { events: alarms.length, deadLetters };
    },
    close: () => checkpoint.finish(),
  };
}

/**
 * Every copy is in TMI_LISTEN (deduplicated by message id) before the batch ends, so the checkpoint is
 * written beside the batches (ADR 0035), its commit flushed as before.
 */
function checkpointWriter(deps: FanoutStageDeps): CheckpointWriter {
  return new CheckpointWriter({
    pool: deps.pool,
    consumer: deps.checkpointName,
    stream: deps.inputStream,
    synchronousCommit: true,
  });
}

function toFanoutEvents(messages: readonly DecodedMessage[]): FanoutEvent[] {
  const out: FanoutEvent[] = [];
  for (const m of messages) {
    for (const { envelope, data } of m.events) {
      out.push({
        eventId: envelope.event_id,
        targetId: envelope.target_id,
        kind: envelope.kind,
        ts: microsToIso(envelope.occurred_at),
        data,
      });
    }
  }
  return out;
}

async function withKnownMeta(
  source: SubscriptionSource,
  snapshot: SubscriptionSnapshot,
  targets: readonly { targetId: string; kind: string }[],
): Promise<SubscriptionSnapshot> {
  const missing = targetsMissingMeta(snapshot.index, targets, (id) => snapshot.meta.has(id));
  return missing.length === 0 ? snapshot : source.refreshForUnknownTargets(missing);
}

export function toMessage(
  o: ListenOutput,
  listenSubject: (listenerId: string, targetId: string) => string,
): OutboundMessage {
  return {
    subject: listenSubject(o.listenerId, o.targetId),
    body: encoder.encode(JSON.stringify(o.payload)),
    msgID: o.msgId,
  };
}

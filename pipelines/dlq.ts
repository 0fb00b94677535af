// SPDX-License-Identifier: MIT
// The dead-letter stream as operators see it (`tmictl dlq list | show | replay`, /healthz, /metrics):
// each dead letter is one event (or one message no stage could read), with the stage that refused it and
// why. A replay, after the cause is fixed, puts it back on its source subject for that stage only
// (processors/poison.ts: the other stages see no events in it), then deletes it from the dead-letter
// stream: applied exactly once — the message id makes a second publish of the same dead letter a duplicate
// JetStream drops, and the stage's event ledger drops an event it has already applied.
import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { deadLetterHeaders as h, replayForHeader, type StageName, stageNames } from '../processors/index.js';
import { decodeEventBatch, type EventEnvelope } from '../schemas/index.js';
import { publishAll } from './publish.js';
import type { Topology } from './topology.js';

/** Dead letters one `list` returns at most. */
export const deadLetterListMax = 1000;

export interface DeadLetterEntry {
  /** Sequence in the dead-letter stream: what `show` and `replay` take. */
  readonly seq: number;
  readonly stage: string;
  readonly code: string;
  readonly error: string;
  /** The event, when the dead letter is one event (else the whole message no stage could read). */
  readonly eventId: string | null;
  readonly targetId: string | null;
  readonly sourceSubject: string;
  readonly sourceSeq: number;
  /** When it was dead-lettered, ISO-8601. */
  readonly at: string;
  readonly bytes: number;
}

export interface DeadLetterDetail extends DeadLetterEntry {
  /** The envelopes it carries (undefined when the body is not an event batch). */
  readonly events: readonly EventEnvelope[] | undefined;
}

function entryOf(m: StoredMsg): DeadLetterEntry {
  const get = (name: string) => m.header?.get(name) || '';
  return {
    seq: m.seq,
    stage: get(h.stage),
    code: get(h.code),
    error: get(h.error),
    eventId: get(h.eventId) || null,
    targetId: get(h.targetId) || null,
    sourceSubject: get(h.sourceSubject),
    sourceSeq: Number(get(h.sourceSeq)) || 0,
    at: m.time.toISOString(),
    bytes: m.data.length,
  };
}

/** Dead letters per stage (what `pipeline status`, /healthz and /metrics report). */
export async function deadLetterDepth(
  jsm: JetStreamManager,
  topo: Topology,
): Promise<Record<StageName, number>> {
  const info = await jsm.streams.info(topo.streams.dlq.name, { subjects_filter: `${topo.namespace}.dlq.>` });
  const depth = {} as Record<StageName, number>;
  for (const stage of stageNames) depth[stage] = info.state.subjects?.[topo.dlqSubject(stage)] ?? 0;
  return depth;
}

export async function listDeadLetters(
  jsm: JetStreamManager,
  topo: Topology,
  opts: { readonly stage?: string; readonly limit?: number } = {},
): Promise<DeadLetterEntry[]> {
  const limit = Math.min(opts.limit ?? 100, deadLetterListMax);
  const stream = topo.streams.dlq.name;
  const state = (await jsm.streams.info(stream)).state;
  const out: DeadLetterEntry[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && out.length < limit; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!m) continue; // deleted (replayed) or expired
    const entry = entryOf(m);
    if (opts.stage === undefined || entry.stage === opts.stage) out.push(entry);
  }
  return out;
}

export async function showDeadLetter(
  jsm: JetStreamManager,
  topo: Topology,
  seq: number,
): Promise<DeadLetterDetail | undefined> {
  const m = await jsm.streams.getMessage(topo.streams.dlq.name, { seq }).catch(() => null);
  if (!m) return undefined;
  let events: EventEnvelope[] | undefined;
  try {
    events = decodeEventBatch(m.data);
  } catch {
    events = undefined;
  }
  return { ...entryOf(m), events };
}

/**
 * Replays one dead letter to its stage and removes it; undefined when there is no such dead letter (never
 * was, or replayed before). Run it after fixing the cause: a still-poisonous event comes back as a new one.
 */
export async function replayDeadLetter(
  js: JetStreamClient,
  jsm: JetStreamManager,
  topo: Topology,
  seq: number,
): Promise<DeadLetterEntry | undefined> {
  const stream = topo.streams.dlq.name;
  const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
  if (!m) return undefined;
  const entry = entryOf(m);
  if (!(stageNames as readonly string[]).includes(entry.stage) || entry.sourceSubject === '') {
    throw new Error(`dead letter ${seq} names no stage or source subject; it cannot be replayed`);
  }
  await publishAll(js, [
    {
      subject: entry.sourceSubject,
      body: m.data,
      msgID: `dlq-replay:${stream}:${seq}`,
      headers: { [replayForHeader]: entry.stage },
    },
  ]);
  await jsm.streams.deleteMessage(stream, seq, false);
  return entry;
}

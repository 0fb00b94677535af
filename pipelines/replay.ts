// SPDX-License-Identifier: MIT
// `tmictl pipeline replay <stage>`: rebuilds what a row-writing stage derived from a range of its input
// stream, while tmiDB runs. An ordered (ephemeral) consumer reads the range — the stage's durable
// consumer, its checkpoint and its ledger are left alone, so live events keep flowing — and the stage's
// pure core turns each batch into rows written with the same idempotent statements as the live stage
// (ON CONFLICT on the event; state and positions: newest observation wins). Replaying a range twice, or
// a range the live stage is processing at the same time, ends in the same rows.
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { type Pool, withTransaction } from '../db/index.js';
import {
  captureRows,
  type DecodedMessage,
  decodeEnvelopes,
  decodePayloads,
  geoRows,
  projectRows,
  rollUpInsertedObs,
  type StageMessage,
} from '../processors/index.js';
import {
  insertObsRows,
  insertRawRows,
  insertTraceRows,
  upsertPositionRows,
  upsertStateRows,
} from '../projections/index.js';
import type { EventEnvelope, RegisteredSchema, SchemaRegistry } from '../schemas/index.js';
import { toStageMessage } from './runner/retry.js';
import type { StageName, Topology } from './topology.js';

/** The stages whose output is rows rebuilt idempotently (the others publish, or carry state in order). */
export const replayableStages = ['capture', 'project', 'geo'] as const;
export type ReplayableStage = (typeof replayableStages)[number];

/** Messages fetched (and written in one transaction) at a time. */
export const replayBatchMessagesMax = 500;
/** How long a fetch waits for the next messages of the range. */
export const replayFetchWaitMs = 2_000;

export interface ReplayRange {
  readonly fromSeq?: number;
  readonly fromTime?: Date;
  readonly toSeq?: number;
  /** Messages stored in the stream after this time end the range. */
  readonly toTime?: Date;
}

export interface ReplayProgress {
  readonly seq: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly events: number;
}

export interface ReplaySummary {
  readonly stage: ReplayableStage;
  readonly stream: string;
  /** The stream sequences replayed; null when the range held no message. */
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly messages: number;
  readonly events: number;
  readonly undecodable: number;
  readonly rowsWritten: number;
  readonly elapsedMs: number;
}

export interface ReplayDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly pool: Pool;
  readonly registry: SchemaRegistry;
  readonly topology: Topology;
}

export function isReplayable(stage: string): stage is ReplayableStage {
  return (replayableStages as readonly string[]).includes(stage);
}

export async function replayStage(
  deps: ReplayDeps,
  stage: ReplayableStage,
  range: ReplayRange,
  onProgress: (p: ReplayProgress) => void = () => {},
): Promise<ReplaySummary> {
  const started = Date.now();
  const spec = deps.topology.stages[stage as StageName];
  const info = await deps.jsm.streams.info(spec.stream);
  const endSeq = Math.min(range.toSeq ?? Number.MAX_SAFE_INTEGER, info.state.last_seq);
  const startSeq = Math.max(range.fromSeq ?? 1, info.state.first_seq);
  const consumer = await deps.js.consumers.get(spec.stream, {
    filter_subjects: spec.filterSubject,
    ...(range.fromTime !== undefined && range.fromSeq === undefined
      ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: range.fromTime.toISOString() }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }),
  });
  const totals = { messages: 0, events: 0, undecodable: 0, rowsWritten: 0 };
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  try {
    for (let done = endSeq < startSeq; !done; ) {
      const batch: StageMessage[] = [];
      const iter = await consumer.fetch({ max_messages: replayBatchMessagesMax, expires: replayFetchWaitMs });
      for await (const m of iter) {
        if (
          m.seq > endSeq ||
          (range.toTime !== undefined && m.info.timestampNanos / 1e6 > range.toTime.getTime())
        ) {
          done = true;
          break;
        }
        batch.push(toStageMessage(m));
        if (m.seq >= endSeq) {
          done = true; // stop now rather than wait out the fetch
          break;
        }
      }
      if (batch.length === 0) break; // the rest of the range is gone (stream limits) or not there yet
      firstSeq ??= batch[0]!.seq;
      lastSeq = batch.at(-1)!.seq;
      const written = await rebuild(deps, stage, batch);
      totals.messages += batch.length;
      totals.events += written.events;
      totals.undecodable += written.undecodable;
      totals.rowsWritten += written.rows;
      onProgress({ seq: lastSeq, firstSeq, lastSeq: endSeq, events: totals.events });
    }
  } finally {
    await consumer.delete().catch(() => {});
  }
  return { stage, stream: spec.stream, firstSeq, lastSeq, ...totals, elapsedMs: Date.now() - started };
}

async function rebuild(
  deps: ReplayDeps,
  stage: ReplayableStage,
  batch: readonly StageMessage[],
): Promise<{ events: number; undecodable: number; rows: number }> {
  const enveloped = decodeEnvelopes(batch);
  const schemas = new Map<number, RegisteredSchema>();
  for (const m of enveloped.ok) {
    for (const e of m.envelopes) {
      if (!schemas.has(e.schema_id)) {
        const schema = await deps.registry.byId(e.schema_id).catch(() => undefined);
        if (schema) schemas.set(e.schema_id, schema);
      }
    }
  }
  const decoded = decodePayloads(enveloped.ok, schemas);
  const events = decoded.ok.reduce((n, m) => n + m.events.length, 0);
  const rows = await withTransaction(deps.pool, (client) => writeRows(client, stage, decoded.ok));
  return { events, undecodable: enveloped.deadLetters.length + decoded.deadLetters.length, rows };
}

async function writeRows(
  client: Parameters<typeof insertObsRows>[0],
  stage: ReplayableStage,
  messages: readonly DecodedMessage<EventEnvelope>[],
): Promise<number> {
  switch (stage) {
    case 'capture':
      return insertRawRows(client, captureRows(messages));
    case 'project': {
      const { obs, state } = projectRows(messages);
      const inserted = await insertObsRows(client, obs);
      await rollUpInsertedObs(client, obs, inserted); // only rows the replay added: no double count
      return inserted + (await upsertStateRows(client, state));
    }
    case 'geo': {
      const { trace, positions } = geoRows(messages);
      return (await insertTraceRows(client, trace)) + (await upsertPositionRows(client, positions));
    }
  }
}

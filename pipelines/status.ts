// SPDX-License-Identifier: MIT
// What `tmictl pipeline status` and /metrics show per stage: JetStream's view of the consumer next to the
// stage's own checkpoint in PostgreSQL.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Pool } from '../db/index.js';
import { countSkips, listCheckpoints } from '../projections/index.js';
import { stageNames, type Topology } from './topology.js';

export interface StageStatus {
  readonly stage: string;
  readonly stream: string;
  readonly consumer: string;
  /** Messages in the stream not yet delivered to the stage. */
  readonly pending: number;
  /** Delivered, not yet acknowledged. */
  readonly ackPending: number;
  readonly redelivered: number;
  readonly delivered: number;
  readonly ackFloor: number;
  readonly checkpoint: number | null;
  readonly eventsCommitted: number | null;
  readonly deadLettered: number;
  /** Events read and deliberately not projected (within the streams' retention), and why. */
  readonly skipped: number;
  readonly skipReasons: Readonly<Record<string, number>> | null;
}

export async function pipelineStatus(
  jsm: JetStreamManager,
  pool: Pool,
  topo: Topology,
): Promise<StageStatus[]> {
  const checkpoints = new Map((await listCheckpoints(pool)).map((c) => [c.consumer, c]));
  const skips = await countSkips(pool);
  const dlq = await jsm.streams
    .info(topo.streams.dlq.name, { subjects_filter: `${topo.namespace}.dlq.>` })
    .catch(() => undefined);
  const out: StageStatus[] = [];
  for (const name of stageNames) {
    const spec = topo.stages[name];
    const info = await jsm.consumers.info(spec.stream, spec.durable);
    const cp = checkpoints.get(`${topo.namespace}.${name}`);
    out.push({
      stage: name,
      stream: spec.stream,
      consumer: spec.durable,
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      redelivered: info.num_redelivered,
      delivered: info.delivered.stream_seq,
      ackFloor: info.ack_floor.stream_seq,
      checkpoint: cp?.stream_seq ?? null,
      eventsCommitted: cp?.events ?? null,
      deadLettered: dlq?.state.subjects?.[topo.dlqSubject(name)] ?? 0,
      ...skippedOf(skips.get(`${topo.namespace}.${name}`)),
    });
  }
  return out;
}

function skippedOf(
  byReason: Readonly<Record<string, number>> | undefined,
): Pick<StageStatus, 'skipped' | 'skipReasons'> {
  if (byReason === undefined) return { skipped: 0, skipReasons: null };
  return { skipped: Object.values(byReason).reduce((a, b) => a + b, 0), skipReasons: byReason };
}

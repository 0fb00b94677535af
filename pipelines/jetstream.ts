// SPDX-License-Identifier: MIT
// Creates (or updates to the configured shape) the streams and durable consumers of the topology.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { Config } from '../config/index.js';
import { TaggedError } from '../errors/index.js';
import { consumerAckPendingMax, dlqMaxAgeMs, nanos } from './limits.js';
import { type StageSpec, type StreamSpec, stageNames, type Topology } from './topology.js';

/** A stream or consumer could not be set up; `jsErrCode` is JetStream's own err_code. */
export class JetStreamSetupError extends TaggedError('JetStreamSetupError')<'JETSTREAM_SETUP_FAILED'> {
  constructor(
    readonly jsErrCode: number,
    message: string,
    isRetryable: boolean,
  ) {
    super('JETSTREAM_SETUP_FAILED', message, { isRetryable });
  }
}

export async function ensureTopology(jsm: JetStreamManager, topo: Topology, config: Config): Promise<void> {
  const base = {
    maxAgeMs: config.streamMaxAgeMs,
    bytesMax: config.streamBytesMax,
    dedupeMs: config.dedupeWindowMs,
  };
  await ensureStream(jsm, topo.streams.in, base);
  await ensureStream(jsm, topo.streams.norm, base);
  await ensureStream(jsm, topo.streams.dlq, { ...base, maxAgeMs: dlqMaxAgeMs });
  await ensureStream(jsm, topo.streams.alarm, base);
  // Listeners resume by cursor within this window; older cursors get CURSOR_EXPIRED.
  await ensureStream(jsm, topo.streams.listen, {
    maxAgeMs: config.listenMaxAgeMs,
    bytesMax: config.listenBytesMax,
    dedupeMs: Math.min(config.dedupeWindowMs, config.listenMaxAgeMs),
    messagesMax: config.listenMessagesMax,
  });
  for (const name of stageNames) await ensureConsumer(jsm, topo.stages[name], config);
}

async function ensureStream(
  jsm: JetStreamManager,
  spec: StreamSpec,
  limits: { maxAgeMs: number; bytesMax: number; dedupeMs: number; messagesMax?: number },
): Promise<void> {
  const cfg: Partial<StreamConfig> & { name: string } = {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(limits.maxAgeMs),
    max_bytes: limits.bytesMax > 0 ? limits.bytesMax : -1,
    max_msgs: limits.messagesMax ?? -1,
    duplicate_window: nanos(limits.dedupeMs),
    allow_direct: true,
  };
  try {
    await jsm.streams.info(spec.name);
    await jsm.streams.update(spec.name, cfg);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
    await jsm.streams.add(cfg);
  }
}

async function ensureConsumer(jsm: JetStreamManager, stage: StageSpec, config: Config): Promise<void> {
  const cfg = {
    durable_name: stage.durable,
    description: `tmiDB stage ${stage.name}: ${stage.doc}`,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(config.ackWaitMs),
    max_deliver: config.stageMaxDeliver,
    max_ack_pending: consumerAckPendingMax,
    filter_subject: stage.filterSubject,
  };
  try {
    await jsm.consumers.info(stage.stream, stage.durable);
    const { durable_name: _d, deliver_policy: _p, ...mutable } = cfg;
    await jsm.consumers.update(stage.stream, stage.durable, mutable);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.ConsumerNotFound) throw err;
    await jsm.consumers.add(stage.stream, cfg);
  }
}

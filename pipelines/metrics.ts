// SPDX-License-Identifier: MIT
// Prometheus metrics of one process. Consumer lag is read from JetStream at scrape time (GET /metrics,
// api/routes/health.ts).
import { Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly eventsAccepted: Counter<'transport'>;
  readonly writesRejected: Counter<'transport' | 'code'>;
  readonly stageEventsProcessed: Counter<'stage'>;
  readonly stageEventsFailed: Counter<'stage' | 'code'>;
  readonly stageBatchRetries: Counter<'stage' | 'code'>;
  readonly stageBatchSeconds: Histogram<'stage'>;
  readonly stageEventsSkipped: Counter<'stage' | 'reason'>;
  readonly stageMessagesDeferred: Counter<'stage'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  return {
    registry,
    eventsAccepted: new Counter({
      name: 'tmidb_events_accepted_total',
      help: 'Events accepted from speakers (acknowledged after the JetStream PubAck).',
      labelNames: ['transport'],
      registers: [registry],
    }),
    writesRejected: new Counter({
      name: 'tmidb_writes_rejected_total',
      help: 'Speaker writes refused, by error code.',
      labelNames: ['transport', 'code'],
      registers: [registry],
    }),
    stageEventsProcessed: new Counter({
      name: 'tmidb_stage_events_processed_total',
      help: 'Events a stage committed.',
      labelNames: ['stage'],
      registers: [registry],
    }),
    stageEventsFailed: new Counter({
      name: 'tmidb_stage_events_failed_total',
      help: 'Events a stage sent to the dead-letter subject.',
      labelNames: ['stage', 'code'],
      registers: [registry],
    }),
    stageBatchRetries: new Counter({
      name: 'tmidb_stage_batch_retries_total',
      help: 'Batches a stage retried after a transient error.',
      labelNames: ['stage', 'code'],
      registers: [registry],
    }),
    stageEventsSkipped: new Counter({
      name: 'tmidb_stage_events_skipped_total',
      help: 'Events a stage read and deliberately did not project, by reason (geo: coordinates out of range …).',
      labelNames: ['stage', 'reason'],
      registers: [registry],
    }),
    stageMessagesDeferred: new Counter({
      name: 'tmidb_stage_messages_deferred_total',
      help: 'Times a stage could not apply a message yet (alarm: it came after a gap in the stream) and the runner held it to offer it again.',
      labelNames: ['stage'],
      registers: [registry],
    }),
    stageBatchSeconds: new Histogram({
      name: 'tmidb_stage_batch_seconds',
      help: 'Time to process and commit one batch.',
      labelNames: ['stage'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

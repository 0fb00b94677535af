// SPDX-License-Identifier: MIT
// Wires stages to the topology and starts their runners. `tmictl up` starts all of them in its process;
// `tmictl stage <name>` starts one per process — several may share one durable consumer.
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Config } from '../config/index.js';
import type { Pool } from '../db/index.js';
import {
  alarmStage,
  captureStage,
  fanoutAlarmStage,
  fanoutStage,
  geoStage,
  isolatePoisonEvents,
  normalizeStage,
  projectStage,
  type StageDeps,
  type StageHandler,
  type StageName,
  SubscriptionCache,
} from '../processors/index.js';
import type { SchemaRegistry } from '../schemas/index.js';
import { classifyError } from './errors.js';
import type { Metrics } from './metrics.js';
import { publishAll } from './publish.js';
import { type RunningStage, runStage } from './runner.js';
import type { Topology } from './topology.js';

export interface PipelineContext {
  readonly config: Config;
  readonly pool: Pool;
  readonly js: JetStreamClient;
  readonly registry: SchemaRegistry;
  readonly topology: Topology;
  readonly metrics: Metrics;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Core NATS, for change notices (fanout reloads its subscriptions on `<ns>.sys.*.changed`). */
  readonly nc?: NatsConnection;
}

const factories: Record<StageName, (deps: StageDeps) => StageHandler> = {
  capture: captureStage,
  normalize: normalizeStage,
  project: projectStage,
  fanout: fanoutStage,
  'fanout-alarm': fanoutAlarmStage,
  geo: geoStage,
  alarm: alarmStage,
};

/** alarm publishes transitions on `<ns>.alarm.<target_id>` and applies TMI_NORM strictly in order. */
function alarmDeps(
  ctx: PipelineContext,
  stream: string,
): Pick<StageDeps, 'outputSubject' | 'inputFirstSeq' | 'ackWaitMs' | 'log'> {
  return {
    outputSubject: ctx.topology.alarmSubject,
    inputFirstSeq: async () => (await (await ctx.js.streams.get(stream)).info()).state.first_seq,
    ackWaitMs: ctx.config.ackWaitMs,
    log: ctx.log,
  };
}

/** fanout's subscriptions, reloaded on the API's change notices about listeners and targets. */
function fanoutDeps(ctx: PipelineContext): Pick<StageDeps, 'subscriptions' | 'listenSubject'> {
  const subscriptions = new SubscriptionCache(ctx.pool);
  for (const what of ['listeners', 'targets'] as const) {
    ctx.nc?.subscribe(ctx.topology.sysSubject(what), { callback: () => subscriptions.markStale() });
  }
  return { subscriptions, listenSubject: ctx.topology.listenSubject };
}

export function stageHandler(name: StageName, ctx: PipelineContext): StageHandler {
  const spec = ctx.topology.stages[name];
  const publish = async (messages: Parameters<StageDeps['publish']>[0]) => {
    await publishAll(ctx.js, messages);
  };
  const handler = factories[name]({
    pool: ctx.pool,
    registry: ctx.registry,
    publish,
    checkpointName: `${ctx.topology.namespace}.${name}`,
    inputStream: spec.stream,
    outputSubject: ctx.topology.normSubject,
    ...(name === 'fanout' || name === 'fanout-alarm' ? fanoutDeps(ctx) : {}),
    ...(name === 'alarm' ? alarmDeps(ctx, spec.stream) : {}),
  });
  // fanout-alarm reads alarm transitions, one per message: the runner's dead letter is already one.
  if (name === 'fanout-alarm') return handler;
  return isolatePoisonEvents(handler, {
    inputStream: spec.stream,
    deadLetterSubject: ctx.topology.dlqSubject(name),
    publish,
    classify: (err) => {
      const e = classifyError(err);
      return { permanent: !e.isRetryable, code: e.code, message: e.message };
    },
    onDeadLetter: (code) => ctx.metrics.stageEventsFailed.inc({ stage: name, code }),
    log: ctx.log,
  });
}

export async function startStages(
  names: readonly StageName[],
  ctx: PipelineContext,
): Promise<RunningStage[]> {
  const running: RunningStage[] = [];
  for (const name of names) {
    running.push(
      await runStage({
        js: ctx.js,
        topology: ctx.topology,
        handler: stageHandler(name, ctx),
        metrics: ctx.metrics,
        batchMessagesMax: ctx.config.stageBatchMessagesMax,
        maxDeliver: ctx.config.stageMaxDeliver,
        ackWaitMs: ctx.config.ackWaitMs,
        log: ctx.log,
      }),
    );
  }
  return running;
}

export async function stopStages(stages: readonly RunningStage[]): Promise<void> {
  await Promise.all(stages.map((s) => s.stop()));
}

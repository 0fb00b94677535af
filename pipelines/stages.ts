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
  type FanoutStageDeps,
  FieldNormalizer,
  fanoutAlarmStage,
  fanoutStage,
  geoStage,
  isolatePoisonEvents,
  normalizeStage,
  type OutboundMessage,
  projectStage,
  type StageDeps,
  type StageHandler,
  type StageName,
  SubscriptionCache,
} from '../processors/index.js';
import { nowMicros, type SchemaRegistry } from '../schemas/index.js';
import { classifyError } from './errors.js';
import { listenerStageLingerMs, projectionStageLingerMs, stageLingerMs } from './limits.js';
import type { Metrics } from './metrics.js';
import { publishAll } from './publish.js';
import { type RunningStage, type RunStageOptions, runStage } from './runner/index.js';
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
  /** The stages' clock, µs since the epoch; the system clock unless a test passes its own. */
  readonly nowMicros?: () => number;
}

/** alarm publishes transitions on `<ns>.alarm.<target_id>` and applies TMI_NORM strictly in order. */
function alarmHandler(ctx: PipelineContext, common: StageDeps): StageHandler {
  return alarmStage({
    ...common,
    publish: publisher(ctx),
    outputSubject: ctx.topology.alarmSubject,
    inputFirstSeq: async () => (await (await ctx.js.streams.get(common.inputStream)).info()).state.first_seq,
    ackWaitMs: ctx.config.ackWaitMs,
    log: ctx.log ?? (() => {}),
  });
}

/** fanout's subscriptions, reloaded on the API's change notices about listeners and targets. */
function fanoutDeps(ctx: PipelineContext, common: StageDeps): FanoutStageDeps {
  const subscriptions = new SubscriptionCache(ctx.pool, common.nowMicros);
  for (const what of ['listeners', 'targets'] as const) {
    ctx.nc?.subscribe(ctx.topology.sysSubject(what), { callback: () => subscriptions.markStale() });
  }
  return { ...common, publish: publisher(ctx), subscriptions, listenSubject: ctx.topology.listenSubject };
}

/** The normalize stage's FieldNormalizer: the model (loaded on first need) and the thresholds. */
function normalizerOf(ctx: PipelineContext): FieldNormalizer {
  return new FieldNormalizer(ctx.pool, {
    modelPath: ctx.config.normalizeModel,
    autoMin: ctx.config.normalizeAutoMin,
    suggestMin: ctx.config.normalizeSuggestMin,
    defaultRole: ctx.config.normalizeDefaultRole,
    log: ctx.log,
    onRulesChanged: () => ctx.nc?.publish(ctx.topology.sysSubject('listeners')),
  });
}

function publisher(ctx: PipelineContext): (messages: readonly OutboundMessage[]) => Promise<void> {
  return async (messages) => {
    await publishAll(ctx.js, messages);
  };
}

/** Each stage with the dependencies it declares: the common ones plus its own. */
const handlers: Record<StageName, (ctx: PipelineContext, common: StageDeps) => StageHandler> = {
  capture: (_ctx, common) => captureStage(common),
  normalize: (ctx, common) =>
    normalizeStage({
      ...common,
      publish: publisher(ctx),
      outputSubject: ctx.topology.normSubject,
      normalizer: normalizerOf(ctx),
    }),
  project: (_ctx, common) => projectStage(common),
  fanout: (ctx, common) => fanoutStage(fanoutDeps(ctx, common)),
  'fanout-alarm': (ctx, common) => fanoutAlarmStage(fanoutDeps(ctx, common)),
  geo: (_ctx, common) => geoStage(common),
  alarm: alarmHandler,
};

export function stageHandler(name: StageName, ctx: PipelineContext): StageHandler {
  const handler = handlers[name](ctx, {
    pool: ctx.pool,
    registry: ctx.registry,
    checkpointName: `${ctx.topology.namespace}.${name}`,
    inputStream: ctx.topology.stages[name].stream,
    nowMicros: stageClockMicros(ctx),
  });
  return withPoisonIsolation(name, ctx, handler);
}

/**
 * One poison event, not a message (processors/poison.ts): every stage reading event batches splits a
 * message it refuses for good and dead-letters only the refused events.
 */
function withPoisonIsolation(name: StageName, ctx: PipelineContext, handler: StageHandler): StageHandler {
  // fanout-alarm reads alarm transitions, one per message: the runner's dead letter is already one.
  if (name === 'fanout-alarm') return handler;
  return isolatePoisonEvents(handler, {
    inputStream: ctx.topology.stages[name].stream,
    deadLetterSubject: ctx.topology.dlqSubject(name),
    publish: publisher(ctx),
    classify: (err) => {
      const e = classifyError(err);
      return { permanent: !e.isRetryable, code: e.code, message: e.message };
    },
    onDeadLetter: (code) => ctx.metrics.stageEventsFailed.inc({ stage: name, code }),
    log: ctx.log,
  });
}

/** The one clock of a process's stages, µs since the epoch: the test's when it passes one. */
function stageClockMicros(ctx: PipelineContext): () => number {
  return ctx.nowMicros ?? nowMicros;
}

/** Stages that only write projections: no listener waits on them (pipelines/limits.ts). */
const offListenerPath: ReadonlySet<StageName> = new Set(['capture', 'project', 'geo']);
/** Stages on a listener's path whose batches cost no transaction: they do not linger (ADR 0035). */
const publishOnly: ReadonlySet<StageName> = new Set(['normalize', 'fanout', 'fanout-alarm']);

/** How long a stage's partial batch waits for more messages. */
export function stageLingerMsOf(name: StageName): number {
  if (offListenerPath.has(name)) return projectionStageLingerMs;
  return publishOnly.has(name) ? listenerStageLingerMs : stageLingerMs;
}

/** How a stage's runner is started: its handler, the settings it runs by, and the stages' clock in ms. */
export function stageRunOptions(name: StageName, ctx: PipelineContext): RunStageOptions {
  const micros = stageClockMicros(ctx);
  return {
    js: ctx.js,
    topology: ctx.topology,
    handler: stageHandler(name, ctx),
    metrics: ctx.metrics,
    batchMessagesMax: ctx.config.stageBatchMessagesMax,
    batchBytesMax: ctx.config.stageBatchBytesMax,
    bufferBytesMax: ctx.config.stageBufferBytesMax,
    maxDeliver: ctx.config.stageMaxDeliver,
    lingerMs: stageLingerMsOf(name),
    ackWaitMs: ctx.config.ackWaitMs,
    log: ctx.log,
    // The runner's held-message keep-alive reads the same source as the handlers' timestamps.
    clock: { now: () => micros() / 1000 },
  };
}

export async function startStages(
  names: readonly StageName[],
  ctx: PipelineContext,
): Promise<RunningStage[]> {
  const running: RunningStage[] = [];
  for (const name of names) {
    running.push(await runStage(stageRunOptions(name, ctx)));
  }
  return running;
}

export async function stopStages(stages: readonly RunningStage[]): Promise<void> {
  await Promise.all(stages.map((s) => s.stop()));
}

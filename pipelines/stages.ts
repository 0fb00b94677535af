// SPDX-License-Identifier: MIT
// Wires stages to the topology and starts their runners. `tmictl up` starts all of them in its process;
// `tmictl stage <name>` starts one per process — several may share one durable consumer.
import type { JetStreamClient } from '@nats-io/jetstream';
import type { Config } from '../config/index.js';
import type { Pool } from '../db/index.js';
import {
  captureStage,
  normalizeStage,
  projectStage,
  type StageDeps,
  type StageHandler,
  type StageName,
} from '../processors/index.js';
import type { SchemaRegistry } from '../schemas/index.js';
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
}

const factories: Record<StageName, (deps: StageDeps) => StageHandler> = {
  capture: captureStage,
  normalize: normalizeStage,
  project: projectStage,
};

export function stageHandler(name: StageName, ctx: PipelineContext): StageHandler {
  const spec = ctx.topology.stages[name];
  return factories[name]({
    pool: ctx.pool,
    registry: ctx.registry,
    publish: async (messages) => {
      await publishAll(ctx.js, messages);
    },
    checkpointName: `${ctx.topology.namespace}.${name}`,
    inputStream: spec.stream,
    outputSubject: ctx.topology.normSubject,
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
        log: ctx.log,
      }),
    );
  }
  return running;
}

export async function stopStages(stages: readonly RunningStage[]): Promise<void> {
  await Promise.all(stages.map((s) => s.stop()));
}

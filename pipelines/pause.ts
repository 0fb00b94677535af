// SPDX-License-Identifier: MIT
// `tmictl pipeline pause|resume <stage>`: JetStream holds the pause (consumer pause, nats-server ≥ 2.11),
// so every process running the stage stops receiving at once, nothing is lost (messages wait in the
// stream) and a resumed stage goes on from its checkpoint.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { StageName, Topology } from './topology.js';

/** A pause lasts until `resume` (JetStream needs an end date: this far ahead). */
export const pauseHorizonDays = 3650;

export interface StagePause {
  readonly stage: StageName;
  readonly paused: boolean;
  /** ISO-8601; null when running. */
  readonly pausedUntil: string | null;
}

export async function pauseStage(
  jsm: JetStreamManager,
  topo: Topology,
  stage: StageName,
): Promise<StagePause> {
  const spec = topo.stages[stage];
  const until = new Date(Date.now() + pauseHorizonDays * 86_400_000);
  const r = await jsm.consumers.pause(spec.stream, spec.durable, until);
  return { stage, paused: r.paused, pausedUntil: r.paused ? (r.pause_until ?? until.toISOString()) : null };
}

export async function resumeStage(
  jsm: JetStreamManager,
  topo: Topology,
  stage: StageName,
): Promise<StagePause> {
  const spec = topo.stages[stage];
  const r = await jsm.consumers.resume(spec.stream, spec.durable);
  return { stage, paused: r.paused, pausedUntil: r.paused ? (r.pause_until ?? null) : null };
}

// SPDX-License-Identifier: MIT
// The contract between a stage and the runner that drives it (pipelines/runner/). Stages know no NATS
// client and no topology: the runner hands them messages and the few names and functions they need.
import type { Pool } from '../db/index.js';
import type { SchemaRegistry } from '../schemas/index.js';

export type StageName = 'capture' | 'normalize' | 'project' | 'fanout' | 'geo' | 'alarm' | 'fanout-alarm';
export const stageNames: readonly StageName[] = [
  'capture',
  'normalize',
  'project',
  'fanout',
  'geo',
  'alarm',
  'fanout-alarm',
];

export interface StageMessage {
  readonly seq: number;
  readonly subject: string;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly deliveryCount: number;
}

export interface DeadLetter {
  readonly seq: number;
  readonly code: string;
  readonly reason: string;
}

export interface StageResult {
  /** Events committed (a message may carry several). */
  readonly events: number;
  /** Messages the stage itself judged poison (undecodable …); they are dead-lettered, then acked. */
  readonly deadLetters: readonly DeadLetter[];
  /**
   * Messages the stage cannot apply yet (alarm: they come after a gap in the stream); the runner holds them
   * unacked (kept alive) and offers them again, lowest stream sequence first, until the stage takes them.
   */
  readonly deferred?: readonly number[];
  /** Events read and deliberately not projected, by reason (geo: coordinates out of range …). */
  readonly skipped?: Readonly<Record<string, number>>;
}

export interface StageHandler {
  readonly stage: StageName;
  /**
   * Computes and commits the batch's outputs (one transaction with the checkpoint; a stage whose output is
   * all in JetStream writes its checkpoint beside its batches, ADR 0035). Throws classifiable errors.
   */
  handle(batch: readonly StageMessage[]): Promise<StageResult>;
  /**
   * Work that is due without new messages (alarm: deadlines that passed, unpublished transitions). The runner
   * calls it every `tickIntervalMs` while the stage runs, never two at once.
   */
  tick?(): Promise<void>;
  readonly tickIntervalMs?: number;
  /** Called once after the stage stopped: finishes what it writes beside its batches (its checkpoint). */
  close?(): Promise<void>;
}

export interface OutboundMessage {
  readonly subject: string;
  readonly body: Uint8Array;
  /** Nats-Msg-Id: JetStream drops a second message with the same id inside the duplicate window. */
  readonly msgID: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * What the effectful part of every stage needs, given by the runner's wiring (pipelines/stages.ts). A stage
 * that needs more declares its own dependencies extending these (AlarmStageDeps, FanoutStageDeps, …).
 */
export interface StageDeps {
  readonly pool: Pool;
  readonly registry: SchemaRegistry;
  /** consumer_checkpoint key of this stage. */
  readonly checkpointName: string;
  /** Name of the stream the stage consumes (recorded with the checkpoint). */
  readonly inputStream: string;
  /**
   * The wall clock, µs since the epoch (schemas/time.ts `nowMicros` in production). Stages read time only
   * here, so a test can drive them with a clock of its own.
   */
  readonly nowMicros: () => number;
}

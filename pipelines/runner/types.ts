// SPDX-License-Identifier: MIT
// What the runner is given and what it hands back. The NATS side is typed as narrowly as the runner uses
// it, so that `JetStreamClient` fits and unit tests can drive the runner with fake messages.
import type { DeliveryInfo, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { StageHandler, StageName } from '../../processors/index.js';
import { stageLingerMs } from '../limits.js';
import type { Metrics } from '../metrics.js';
import type { Topology } from '../topology.js';

export type StageLog = (level: 'info' | 'warn' | 'error', msg: string) => void;

/** Where the runner reads the time (held messages' keep-alive); tests pass a clock they move. */
export interface RunnerClock {
  now(): number;
}

/** The part of a JetStream message the runner reads and settles. */
export type RunnerMsg = Pick<JsMsg, 'seq' | 'subject' | 'data' | 'headers' | 'ack' | 'nak' | 'working'> & {
  readonly info: Pick<DeliveryInfo, 'deliveryCount' | 'stream'>;
};

/** A consumer's message iterator (`consumer.consume()`): ends when the consumer is lost or closed. */
export interface MessageStream extends AsyncIterable<RunnerMsg> {
  close(): Promise<unknown>;
}

export interface StageJetStream {
  readonly consumers: {
    get(
      stream: string,
      durable: string,
    ): Promise<{ consume(opts: { max_bytes: number; expires?: number }): Promise<MessageStream> }>;
  };
  publish(subject: string, data: Uint8Array, opts: { headers: MsgHdrs; msgID: string }): Promise<unknown>;
}

export interface RunStageOptions {
  readonly js: StageJetStream;
  readonly topology: Topology;
  readonly handler: StageHandler;
  readonly metrics: Metrics;
  readonly batchMessagesMax: number;
  /** Bytes of message data in one batch (at least one message); default stageBatchBytesMaxDefault. */
  readonly batchBytesMax?: number;
  /** Bytes of message data a stage buffers ahead of its batch; default stageBufferBytesMaxDefault. */
  readonly bufferBytesMax?: number;
  readonly maxDeliver: number;
  /** How long a partial batch waits for more messages; default stageLingerMs. */
  readonly lingerMs?: number;
  /** The consumer's ack wait: messages a stage defers are kept alive well within it. */
  readonly ackWaitMs?: number;
  readonly log?: StageLog;
  /** Default: the system clock. */
  readonly clock?: RunnerClock;
}

/** The options with their defaults filled in, as the runner's parts use them. */
export interface RunnerContext extends RunStageOptions {
  readonly lingerMs: number;
  readonly batchBytesMax: number;
  readonly bufferBytesMax: number;
  readonly ackWaitMs: number;
  readonly log: StageLog;
  readonly clock: RunnerClock;
}

export interface RunningStage {
  readonly stage: StageName;
  /** Resolves when the loop ends (after stop(), or with an error that should crash the process). */
  readonly done: Promise<void>;
  /** Stops pulling, finishes the batch in hand, naks what was buffered. */
  stop(): Promise<void>;
}

/** JetStream's default ack wait, used when the options name none. */
export const defaultAckWaitMs = 30_000;
/** Bounds when the options name none (config: stageBatchBytesMax, stageBufferBytesMax). */
export const stageBatchBytesMaxDefault = 1024 * 1024;
export const stageBufferBytesMaxDefault = 2 * 1024 * 1024;

export function runnerContext(opts: RunStageOptions): RunnerContext {
  return {
    ...opts,
    ackWaitMs: opts.ackWaitMs ?? defaultAckWaitMs,
    lingerMs: opts.lingerMs ?? stageLingerMs,
    batchBytesMax: opts.batchBytesMax ?? stageBatchBytesMaxDefault,
    bufferBytesMax: opts.bufferBytesMax ?? stageBufferBytesMaxDefault,
    log: opts.log ?? (() => {}),
    clock: opts.clock ?? { now: () => Date.now() },
  };
}

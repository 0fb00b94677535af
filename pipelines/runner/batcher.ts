// SPDX-License-Identifier: MIT
// Batching: a pump moves what the consumer delivers into a buffer; `next` waits for the first message,
// lingers briefly for more (lingerMs; with 0, one event-loop turn), and takes up to a batch — together
// with the held messages, lowest sequence first, since a stage that applies in stream order needs those.
// The pump ends when the consumer is lost (or closed); `close` then hands everything not yet taken back to
// the stream.
//
// Memory (ADR 0029): a batch holds at most batchMessagesMax messages and batchBytesMax bytes of message
// data (at least one message); the pump stops reading while the buffer holds bufferBatchesMax batches or
// bufferBytesMax bytes. The consumer pulls again only as its messages are read (and pulls by bytes, see
// subscription.ts), so a stage that falls behind leaves its backlog in JetStream, not in this process.
import { Deferred, Effect, Exit, FiberId } from 'effect';
import { stageHeldRetryMs } from '../limits.js';
import { HeldMessages } from './held.js';
import type { MessageStream, RunnerContext, RunnerMsg } from './types.js';

/** Batches a stage buffers ahead of the one it is working on (the byte bound usually comes first). */
export const bufferBatchesMax = 2;

export class Batcher {
  readonly held: HeldMessages;
  private readonly buffer: RunnerMsg[] = [];
  private waiter: (() => void) | undefined;
  /** Bytes of message data in `buffer`. */
  private bufferedBytes = 0;
  /** The pump, paused while the buffer is full. */
  private spaceWaiter: (() => void) | undefined;
  private isEnded = false;
  /** Set by `close`: the pump then reads to the end without pausing (see close). */
  private closing = false;
  private readonly endedSignal = Deferred.unsafeMake<void>(FiberId.none);
  private readonly pumped: Promise<void>;

  constructor(
    private readonly ctx: Pick<
      RunnerContext,
      | 'batchMessagesMax'
      | 'batchBytesMax'
      | 'bufferBytesMax'
      | 'lingerMs'
      | 'ackWaitMs'
      | 'clock'
      | 'log'
      | 'handler'
    >,
    private readonly messages: MessageStream,
  ) {
    this.held = new HeldMessages(ctx.clock, ctx.ackWaitMs / 3);
    this.pumped = this.pump();
  }

  /** True once the consumer's messages have ended: at most one more batch is taken, then the source is done. */
  get ended(): boolean {
    return this.isEnded;
  }

  /** Completes when the consumer's messages end (a retry in progress gives up then). */
  readonly whenEnded: Effect.Effect<void> = Deferred.await(this.endedSignal);

  /** The next batch; empty when nothing came (held messages are offered again after a pause). */
  readonly next: Effect.Effect<RunnerMsg[]> = Effect.suspend(() => this.nextBatch());

  /**
   * Stops the consumer's messages, waits for the pump, and naks everything buffered or held. The client
   * ends its message stream only after yielding what it had already pulled, and its close resolves only
   * then: a pump paused on a full buffer would never get there (a stop hung for good while PostgreSQL was
   * down and the stage's backlog had filled the buffer), so from here on the pump does not pause.
   */
  async close(): Promise<void> {
    this.closing = true;
    const closed = this.messages.close().catch(() => {});
    this.wakePump();
    await closed;
    await this.pumped;
    this.bufferedBytes = 0;
    for (const m of this.buffer.splice(0)) m.nak();
    this.held.nakAll();
  }

  private nextBatch(): Effect.Effect<RunnerMsg[]> {
    return Effect.gen(this, function* () {
      if (this.buffer.length === 0 && !this.isEnded) {
        yield* this.held.size > 0
          ? Effect.raceFirst(this.arrival(), Effect.sleep(stageHeldRetryMs))
          : this.arrival();
      }
      if (this.buffer.length > 0 && !this.hasFullBatch() && !this.isEnded) {
        yield* this.ctx.lingerMs > 0 ? Effect.sleep(this.ctx.lingerMs) : nextTurn;
      }
      return this.take();
    });
  }

  private take(): RunnerMsg[] {
    if (this.held.size > 0) {
      const all = [...this.held.takeAll(), ...this.buffer.splice(0)].sort((a, b) => a.seq - b.seq);
      this.buffer.push(...all);
    }
    const batch = this.buffer.splice(0, batchLength(this.buffer, this.ctx));
    this.bufferedBytes = 0;
    for (const m of this.buffer) this.bufferedBytes += m.data.length;
    if (!this.isFull()) this.wakePump();
    return batch;
  }

  /** Is a batch's worth buffered (no need to linger for more)? */
  private hasFullBatch(): boolean {
    return (
      batchLength(this.buffer, this.ctx) < this.buffer.length ||
      this.buffer.length >= this.ctx.batchMessagesMax
    );
  }

  private isFull(): boolean {
    return (
      this.buffer.length >= this.ctx.batchMessagesMax * bufferBatchesMax ||
      this.bufferedBytes >= this.ctx.bufferBytesMax
    );
  }

  private wakePump(): void {
    const w = this.spaceWaiter;
    this.spaceWaiter = undefined;
    w?.();
  }

  /** Resumes once a message is buffered or the messages have ended. */
  private arrival(): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (this.buffer.length > 0 || this.isEnded) return resume(Effect.void);
      this.waiter = () => resume(Effect.void);
      return Effect.sync(() => {
        this.waiter = undefined;
      });
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async pump(): Promise<void> {
    try {
      for await (const m of this.messages) {
        this.buffer.push(m);
        this.bufferedBytes += m.data.length;
        this.wake();
        if (this.isFull() && !this.closing) await new Promise<void>((resume) => (this.spaceWaiter = resume));
      }
    } catch (err) {
      this.ctx.log('warn', `${this.ctx.handler.stage}: message stream failed: ${(err as Error).message}`);
    } finally {
      this.isEnded = true;
      Deferred.unsafeDone(this.endedSignal, Exit.void);
      this.wake();
    }
  }
}

/**
 * No linger (lingerMs 0) still lets the pump move what the client has already read off the socket (the
 * messages of one read arrive one by one through its iterator) before the batch is taken: one turn of the
 * event loop, no timer.
 */
const nextTurn: Effect.Effect<void> = Effect.async<void>((resume) => {
  const turn = setImmediate(() => resume(Effect.void));
  return Effect.sync(() => clearImmediate(turn));
});

/** How many of the first messages make one batch: up to batchMessagesMax and batchBytesMax, at least one. */
export function batchLength(
  messages: readonly RunnerMsg[],
  limits: Pick<RunnerContext, 'batchMessagesMax' | 'batchBytesMax'>,
): number {
  const n = Math.min(messages.length, limits.batchMessagesMax);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    bytes += messages[i]!.data.length;
    if (bytes > limits.batchBytesMax) return Math.max(1, i);
  }
  return n;
}

// SPDX-License-Identifier: MIT
// Batching: a pump moves what the consumer delivers into a buffer; `next` waits for the first message,
// lingers briefly for more, and takes up to a batch — together with the held messages, lowest sequence
// first, since a stage that applies in stream order needs those. The pump ends when the consumer is lost
// (or closed); `close` then hands everything not yet taken back to the stream.
import { Deferred, Effect, Exit, FiberId } from 'effect';
import { stageHeldRetryMs, stageLingerMs } from '../limits.js';
import { HeldMessages } from './held.js';
import type { MessageStream, RunnerContext, RunnerMsg } from './types.js';

export class Batcher {
  readonly held: HeldMessages;
  private readonly buffer: RunnerMsg[] = [];
  private waiter: (() => void) | undefined;
  private isEnded = false;
  private readonly endedSignal = Deferred.unsafeMake<void>(FiberId.none);
  private readonly pumped: Promise<void>;

  constructor(
    private readonly ctx: Pick<RunnerContext, 'batchMessagesMax' | 'ackWaitMs' | 'clock' | 'log' | 'handler'>,
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

  /** Stops the consumer's messages, waits for the pump, and naks everything buffered or held. */
  async close(): Promise<void> {
    await this.messages.close().catch(() => {});
    await this.pumped;
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
      if (this.buffer.length > 0 && this.buffer.length < this.ctx.batchMessagesMax && !this.isEnded) {
        yield* Effect.sleep(stageLingerMs);
      }
      return this.take();
    });
  }

  private take(): RunnerMsg[] {
    const max = this.ctx.batchMessagesMax;
    if (this.held.size === 0) return this.buffer.splice(0, max);
    const all = [...this.held.takeAll(), ...this.buffer.splice(0)].sort((a, b) => a.seq - b.seq);
    this.buffer.push(...all.slice(max));
    return all.slice(0, max);
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
        this.wake();
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

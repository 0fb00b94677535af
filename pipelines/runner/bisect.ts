// SPDX-License-Identifier: MIT
// One batch, from delivery to settlement. Messages delivered maxDeliver times are dead-lettered; the rest
// are committed (with retries). A permanent failure bisects the batch until the poison message stands
// alone; it goes to the dead-letter subject with its error. What the stage committed is acked, what it
// deferred is held, what it judged poison is dead-lettered. Nothing is acked before it is committed or
// dead-lettered; a batch that cannot commit when the stage stops is nakked, for another worker, at once.
import { Effect } from 'effect';
import type { StageResult } from '../../processors/index.js';
import { deadLetter } from './dead-letter.js';
import type { HeldMessages } from './held.js';
import { type BatchStopped, commitWithRetry, type Interruptible } from './retry.js';
import type { RunnerContext, RunnerMsg } from './types.js';

/** What settling a batch needs besides the runner's options. */
export interface BatchScope {
  readonly held: HeldMessages;
  /** Completes when the consumer's messages end: a batch that cannot commit is handed back then. */
  readonly stopped: Effect.Effect<void>;
}

/**
 * Runs uninterruptibly — a stop lets the batch in hand finish — except for the waits between retries;
 * interrupted there, it naks the batch.
 */
export function processBatch(
  ctx: RunnerContext,
  scope: BatchScope,
  batch: readonly RunnerMsg[],
): Effect.Effect<void> {
  return Effect.uninterruptibleMask((interruptible) =>
    Effect.gen(function* () {
      const ready: RunnerMsg[] = [];
      for (const m of batch) {
        if (m.info.deliveryCount < ctx.maxDeliver) ready.push(m);
        else {
          const reason = `delivered ${m.info.deliveryCount} times without success`;
          yield* deadLetter(ctx, m, { seq: m.seq, code: 'MAX_DELIVER', reason });
        }
      }
      if (ready.length === 0) return;
      const endTimer = ctx.metrics.stageBatchSeconds.startTimer({ stage: ctx.handler.stage });
      const nakReady = Effect.sync(() => {
        for (const m of ready) m.nak();
      });
      yield* commitOrBisect(ctx, scope, ready, interruptible).pipe(
        Effect.catchTag('BatchStopped', () => nakReady),
        Effect.onInterrupt(() => nakReady),
        Effect.ensuring(Effect.sync(endTimer)),
      );
    }),
  );
}

export function commitOrBisect(
  ctx: RunnerContext,
  scope: BatchScope,
  batch: readonly RunnerMsg[],
  interruptible: Interruptible,
): Effect.Effect<void, BatchStopped> {
  return commitWithRetry(ctx, batch, scope.stopped, interruptible).pipe(
    Effect.matchEffect({
      onSuccess: (result) => settle(ctx, scope.held, batch, result),
      onFailure: (failure) => {
        if (failure._tag === 'BatchStopped') return Effect.fail(failure);
        const [only] = batch;
        if (batch.length === 1 && only) {
          const { code, message } = failure.error;
          return deadLetter(ctx, only, { seq: only.seq, code, reason: message });
        }
        const half = Math.ceil(batch.length / 2);
        return Effect.zipRight(
          commitOrBisect(ctx, scope, batch.slice(0, half), interruptible),
          commitOrBisect(ctx, scope, batch.slice(half), interruptible),
        );
      },
    }),
  );
}

/** Acks what the stage committed, holds what it deferred, dead-letters what it judged poison. */
function settle(
  ctx: RunnerContext,
  held: HeldMessages,
  batch: readonly RunnerMsg[],
  result: StageResult,
): Effect.Effect<void> {
  return Effect.gen(function* () {
    const poison = new Map(result.deadLetters.map((d) => [d.seq, d]));
    const deferred = new Set(result.deferred ?? []);
    for (const m of batch) {
      const dead = poison.get(m.seq);
      if (deferred.has(m.seq) && !dead) {
        held.hold(m);
        continue;
      }
      held.release(m);
      if (dead) yield* deadLetter(ctx, m, dead);
      else m.ack();
    }
    const { stage } = ctx.handler;
    ctx.metrics.stageEventsProcessed.inc({ stage }, result.events);
    if (deferred.size > 0) ctx.metrics.stageMessagesDeferred.inc({ stage }, deferred.size);
    for (const [reason, n] of Object.entries(result.skipped ?? {})) {
      ctx.metrics.stageEventsSkipped.inc({ stage, reason }, n);
    }
  });
}

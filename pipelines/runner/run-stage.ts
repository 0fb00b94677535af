// SPDX-License-Identifier: MIT
// Drives one stage: its subscription (attached again when lost) drained batch by batch, beside its ticker.
// The whole is one fiber: stopping interrupts it — the batch in hand and a tick in progress finish, the
// waits end at once, and the subscription's scope closes, nakking what was buffered. A broken invariant
// (a defect) ends the fiber with that error: `done` rejects, and the process crashes.
import { Cause, Deferred, Effect, Exit, Fiber, FiberId, Runtime } from 'effect';
import type { Batcher } from './batcher.js';
import { processBatch } from './bisect.js';
import { consumeWithReattach } from './reattach.js';
import { AttachFailed } from './subscription.js';
import { runTicker } from './ticker.js';
import { type RunnerContext, type RunningStage, type RunStageOptions, runnerContext } from './types.js';

/** Takes batches from the subscription until its messages end. */
export function drain(ctx: RunnerContext, source: Batcher): Effect.Effect<void> {
  return Effect.gen(function* () {
    const scope = { held: source.held, stopped: source.whenEnded };
    while (!source.ended) {
      const batch = yield* source.next;
      if (batch.length > 0) yield* processBatch(ctx, scope, batch);
    }
  });
}

/** The stage: consuming (with re-attach) and, once attached, its ticker; whichever fails ends both. */
export function stageProgram(
  ctx: RunnerContext,
  attached: Deferred.Deferred<void>,
): Effect.Effect<void, AttachFailed> {
  return Effect.all(
    [
      consumeWithReattach(ctx, attached, (source) => drain(ctx, source)),
      Effect.zipRight(Deferred.await(attached), runTicker(ctx)),
    ],
    { concurrency: 'unbounded', discard: true },
  );
}

/** runStage on a given Effect runtime (tests pass one with a TestClock). */
export async function startStage(
  opts: RunStageOptions,
  runtime: Runtime.Runtime<never>,
): Promise<RunningStage> {
  const attached = Deferred.unsafeMake<void>(FiberId.none);
  const fiber = Runtime.runFork(runtime)(stageProgram(runnerContext(opts), attached));
  const done = Runtime.runPromise(runtime)(Fiber.await(fiber)).then(throwIfFailed);
  // Started once attached; a first attach that fails rejects here (done rejects with it too).
  await Promise.race([Runtime.runPromise(runtime)(Deferred.await(attached)), done]);
  return {
    stage: opts.handler.stage,
    done,
    stop: async () => {
      await Runtime.runPromise(runtime)(Fiber.interrupt(fiber));
      await done.catch(() => {});
      // What the stage writes beside its batches (its checkpoint, ADR 0035) is finished before stop returns.
      await opts.handler.close?.().catch((err: unknown) => {
        opts.log?.('warn', `${opts.handler.stage}: closing: ${(err as Error)?.message ?? err}`);
      });
    },
  };
}

export function runStage(opts: RunStageOptions): Promise<RunningStage> {
  return startStage(opts, Runtime.defaultRuntime);
}

/** An interrupted stage ended as asked; any other end carries the error that ended it. */
function throwIfFailed(exit: Exit.Exit<void, AttachFailed>): void {
  if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) return;
  const err = Cause.squash(exit.cause);
  throw err instanceof AttachFailed ? err.cause : err;
}

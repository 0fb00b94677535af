// SPDX-License-Identifier: MIT
// Keeps the stage attached to its consumer. A subscription ends when its message stream ends (the consumer
// was deleted, heartbeats were missed for too long …); unless the stage is stopping (then this fiber is
// interrupted), attach again, backing off, rather than leave the stage dead. Only the first attach may
// fail the stage: `runStage` reports that to its caller.
import { Deferred, Duration, Effect, Schedule, type Scope } from 'effect';
import type { Batcher } from './batcher.js';
import { type AttachFailed, subscribe } from './subscription.js';
import type { RunnerContext } from './types.js';

/** Re-attaching to the consumer after it was lost backs off up to this long. */
export const reattachBackoffMaxMs = 5_000;

/** 100 ms, doubling, at most reattachBackoffMaxMs; it starts again at 100 ms after each success. */
export const reattachSchedule = Schedule.union(
  Schedule.exponential('100 millis', 2),
  Schedule.spaced(Duration.millis(reattachBackoffMaxMs)),
);

/** Waits out the backoff before each try (the consumer was just lost); tries until it attaches. */
export function attachAgain(ctx: RunnerContext): Effect.Effect<Batcher, never, Scope.Scope> {
  const { stage } = ctx.handler;
  return Effect.gen(function* () {
    const backoff = yield* Schedule.driver(
      Schedule.delays(reattachSchedule).pipe(
        Schedule.tapOutput((delay) =>
          Effect.sync(() =>
            ctx.log('warn', `${stage}: consumer lost; attaching again in ${Duration.toMillis(delay)} ms`),
          ),
        ),
      ),
    );
    for (;;) {
      yield* Effect.orDie(backoff.next(undefined));
      const attached = yield* Effect.either(subscribe(ctx));
      if (attached._tag === 'Right') return attached.right;
      ctx.log('warn', `${stage}: attach failed: ${errorMessage(attached.left.cause)}`);
    }
  });
}

/**
 * Attaches (signalling `attached` — a failure here fails the stage), drains the subscription with `drain`
 * until it ends, and from then on attaches again and again. Never ends on its own.
 */
export function consumeWithReattach(
  ctx: RunnerContext,
  attached: Deferred.Deferred<void>,
  drain: (source: Batcher) => Effect.Effect<void>,
): Effect.Effect<never, AttachFailed> {
  return Effect.gen(function* () {
    yield* Effect.scoped(
      subscribe(ctx).pipe(
        Effect.tap(() => Deferred.succeed(attached, undefined)),
        Effect.flatMap(drain),
      ),
    );
    return yield* Effect.forever(Effect.scoped(Effect.flatMap(attachAgain(ctx), drain)));
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

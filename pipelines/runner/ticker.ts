// SPDX-License-Identifier: MIT
// The stage's time-driven work (`tick`; alarm: deadlines, unpublished transitions), every tickIntervalMs,
// one run at a time. A failed run is logged and tried again next time; a broken invariant crashes the
// stage. Stopping interrupts the wait between runs, never a run in progress.
import { Effect } from 'effect';
import { classifyError, InvariantError } from '../errors.js';
import type { RunnerContext } from './types.js';

/** How often `tick` runs when the stage names no interval. */
export const defaultTickIntervalMs = 1_000;

export function runTicker(ctx: Pick<RunnerContext, 'handler' | 'log'>): Effect.Effect<void> {
  const { handler, log } = ctx;
  const tick = handler.tick?.bind(handler);
  if (!tick) return Effect.void;
  const once = Effect.tryPromise({ try: tick, catch: (err) => err }).pipe(
    Effect.catchAll((err) => {
      if (err instanceof InvariantError) return Effect.die(err);
      const e = classifyError(err);
      return Effect.sync(() =>
        log(e.isRetryable ? 'warn' : 'error', `${handler.stage}: timer: ${e.code} ${e.message}`),
      );
    }),
    Effect.uninterruptible,
  );
  return Effect.forever(Effect.zipRight(Effect.sleep(handler.tickIntervalMs ?? defaultTickIntervalMs), once));
}

// SPDX-License-Identifier: MIT
// One batch handed to the stage, retried while its failure is transient: the database or NATS went away
// for a moment. The messages are kept alive between tries. A permanent failure comes back typed, for the
// caller to bisect; a broken invariant is a defect and crashes the stage. A try in progress always runs
// to its end — only the wait between tries is cut short, by the consumer's messages ending (`stopped`) or
// by interrupting the stage (pass `interruptible` from the batch's uninterruptible region).
import { Data, Duration, Effect, Schedule } from 'effect';
import type { StageMessage, StageResult } from '../../processors/index.js';
import { type ClassifiedError, classifyError, InvariantError, invariant } from '../errors.js';
import type { RunnerContext, RunnerMsg } from './types.js';

/** Waits between tries: 50 ms, doubling, at most retryDelayMaxMs; for as long as the error is transient. */
export const retryDelayMaxMs = 5_000;
export const retrySchedule = Schedule.union(
  Schedule.exponential('50 millis', 2),
  Schedule.spaced(Duration.millis(retryDelayMaxMs)),
);

/** The stage refused the batch for good (decode error, constraint …): bisect it, dead-letter the poison. */
export class PermanentFailure extends Data.TaggedError('PermanentFailure')<{
  readonly error: ClassifiedError;
}> {}

/** The batch could not commit and the consumer's messages ended meanwhile: hand the batch back. */
export class BatchStopped extends Data.TaggedError('BatchStopped')<Record<never, never>> {}

export type Interruptible = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>;

export function commitWithRetry(
  ctx: Pick<RunnerContext, 'handler' | 'metrics' | 'log'>,
  batch: readonly RunnerMsg[],
  stopped: Effect.Effect<void>,
  interruptible: Interruptible,
): Effect.Effect<StageResult, PermanentFailure | BatchStopped> {
  const { handler, metrics, log } = ctx;
  return Effect.gen(function* () {
    const stageMessages = batch.map(toStageMessage);
    const attempt = Effect.tryPromise({ try: () => handler.handle(stageMessages), catch: (err) => err }).pipe(
      Effect.catchAll((err) =>
        err instanceof InvariantError ? Effect.die(err) : Effect.fail(classifyError(err)),
      ),
    );
    const delays = yield* Schedule.driver(retrySchedule);
    for (;;) {
      const outcome = yield* Effect.either(attempt);
      if (outcome._tag === 'Right') return outcome.right;
      const error = outcome.left;
      if (!error.isRetryable) return yield* new PermanentFailure({ error });
      metrics.stageBatchRetries.inc({ stage: handler.stage, code: error.code });
      log('warn', `${handler.stage}: transient ${error.code} (${error.message}); retrying batch`);
      for (const m of batch) m.working();
      const waited = yield* interruptible(
        Effect.raceFirst(Effect.as(Effect.orDie(delays.next(error)), true), Effect.as(stopped, false)),
      );
      if (!waited) return yield* new BatchStopped();
    }
  });
}

/** A pulled message as a stage sees it (also what `tmictl pipeline replay` hands the pure cores). */
export function toStageMessage(m: RunnerMsg): StageMessage {
  const headers: Record<string, string> = {};
  if (m.headers) for (const [k, v] of m.headers) headers[k] = v.join(', ');
  invariant(m.seq > 0, `stream sequence must be positive, got ${m.seq}`);
  return { seq: m.seq, subject: m.subject, body: m.data, headers, deliveryCount: m.info.deliveryCount };
}

// SPDX-License-Identifier: MIT
// The stage's subscription to its durable consumer, as a scoped resource: attaching opens the consumer's
// message stream and starts batching; closing the scope stops the stream and naks whatever was not taken.
import { Data, Effect, type Scope } from 'effect';
import { consumerPullExpiresMs } from '../limits.js';
import { Batcher } from './batcher.js';
import type { RunnerContext } from './types.js';

/** The consumer could not be reached (or its messages not opened). */
export class AttachFailed extends Data.TaggedError('AttachFailed')<{ readonly cause: unknown }> {}

export function subscribe(ctx: RunnerContext): Effect.Effect<Batcher, AttachFailed, Scope.Scope> {
  const spec = ctx.topology.stages[ctx.handler.stage];
  return Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const consumer = await ctx.js.consumers.get(spec.stream, spec.durable);
        // reliability (issue 10): short-lived pulls, so a stage pulls again within seconds after a
        // nats-server restart instead of the client's 30 s default (see consumerPullExpiresMs).
        // Pulls bounded by bytes (ADR 0029): what the client holds unread is at most bufferBytesMax (and
        // 100 messages, the client's cap per pull by bytes), however large the messages are.
        const messages = await consumer.consume({
          max_bytes: ctx.bufferBytesMax,
          expires: consumerPullExpiresMs,
        });
        return new Batcher(ctx, messages);
      },
      catch: (cause) => new AttachFailed({ cause }),
    }),
    (batcher) => Effect.promise(() => batcher.close()),
  );
}

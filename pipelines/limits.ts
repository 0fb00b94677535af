// SPDX-License-Identifier: MIT
// Named limits of the pipeline, units last. Milliseconds become JetStream nanoseconds only in nanos().

/** Events of one target that one JetStream message may carry (a speaker's batch is split at this size). */
export const messageEventsMax = 200;
/** Encoded bytes one JetStream message may carry before the batch is split. */
export const messageBytesMax = 512 * 1024;
/** Messages a stage holds unacknowledged across all its workers. */
export const consumerAckPendingMax = 20_000;
/** How long a stage waits for more messages before committing a partial batch. */
export const stageLingerMs = 5;
/**
 * The same for the stages whose output listeners wait for and whose batches cost no transaction
 * (normalize, fanout, fanout-alarm: their checkpoint is written beside the batches, ADR 0035): none. They
 * take what is buffered as soon as they are free; what arrives while a batch is in hand makes the next,
 * so batches grow with the rate by themselves. A 5 ms linger was 5 ms on every event's way, twice.
 */
export const listenerStageLingerMs = 0;
/**
 * The same for the stages no listener waits on (capture, project, geo: they only write projections):
 * each batch costs them a transaction, a WAL flush and one planned statement per table whatever its size,
 * so at a few hundred events/s waiting longer for a bigger batch frees CPU for the listeners' path
 * (normalize → fanout → WebSocket) on a small machine. Projections become readable up to this much later.
 */
export const projectionStageLingerMs = 50;
/** Messages a stage defers (it cannot apply them yet) are held and offered again after this long … */
export const stageHeldRetryMs = 50;
/** … up to this many; beyond, the newest go back to the stream for later. */
export const stageHeldMessagesMax = 5_000;
/**
 * How long one pull request of a stage's consumer lives. It also bounds how long the consumer waits to
 * pull again after the nats-server restarted (heartbeats at half of it, re-check backoff up to it): the
 * client's default of 30 s left stages idle for up to that long after a restart.
 */
export const consumerPullExpiresMs = 5_000;
/** Retention of the dead-letter stream. */
export const dlqMaxAgeMs = 30 * 24 * 3600 * 1000;
/** Publishes in flight at once when a stage or connector publishes a batch. */
export const publishInFlightMax = 2_000;

/** The one conversion from milliseconds to JetStream's nanoseconds. */
export function nanos(ms: number): number {
  return Math.round(ms * 1_000_000);
}

// SPDX-License-Identifier: MIT
// The stage runner: pull a batch from the stage's durable consumer, hand it to the stage, ack after the
// stage has committed. Parts: subscription.ts + reattach.ts (the consumer, attached again when lost),
// batcher.ts + held.ts (batching, with the messages a stage deferred), retry.ts + bisect.ts +
// dead-letter.ts (transient failures retried, permanent ones bisected down to the poison message),
// ticker.ts (the stage's time-driven work), run-stage.ts (all of it as one fiber).
export { runStage } from './run-stage.js';
export type { RunnerClock, RunningStage, RunStageOptions, StageJetStream } from './types.js';

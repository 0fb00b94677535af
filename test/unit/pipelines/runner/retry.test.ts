// SPDX-License-Identifier: MIT
// Transient failures retry the batch on the retry Schedule, keeping the messages alive, in virtual time;
// a permanent one comes back typed at once; when the consumer's messages end or the stage is stopped
// mid-retry, the batch is nakked — never dead-lettered — and a try in progress still runs to its end.
import { Cause, Duration, Effect, Exit, Fiber, Option, Runtime, Schedule } from 'effect';
import { afterEach, expect, it } from 'vitest';
import { processBatch } from '../../../../pipelines/runner/bisect.js';
import { HeldMessages } from '../../../../pipelines/runner/held.js';
import { commitWithRetry, retrySchedule } from '../../../../pipelines/runner/retry.js';
import type { StageMessage } from '../../../../processors/index.js';
import {
  committed,
  FakeJetStream,
  FakeMsg,
  fakeContext,
  fakeStage,
  stageError,
  VirtualTime,
} from '../../../support/fake-jetstream.js';

let time: VirtualTime;
afterEach(() => time?.dispose());

/** Fails transiently `failures` times, then commits. */
function flaky(failures: number) {
  let left = failures;
  return async (batch: readonly StageMessage[]) => {
    if (left-- > 0) throw stageError('PG_08006', true);
    return committed(batch);
  };
}

function setup(handle: (batch: readonly StageMessage[]) => Promise<any>) {
  time = new VirtualTime();
  const js = new FakeJetStream();
  const handler = fakeStage(handle);
  const ctx = fakeContext(js, handler, { clock: time.clock });
  const held = new HeldMessages(time.clock, 1_000);
  const batch = [1, 2].map((seq) => new FakeMsg(seq));
  const fork = async <A, E>(effect: Effect.Effect<A, E>) => {
    const fiber = Runtime.runFork(await time.runtime())(effect);
    const box: { exit?: Exit.Exit<A, E>; fiber: typeof fiber } = { fiber };
    fiber.addObserver((exit) => (box.exit = exit));
    return box;
  };
  return { js, handler, ctx, held, batch, fork };
}

it('waits 50 ms, doubling, at most 5 s between tries', () => {
  const delays = Effect.runSync(Schedule.run(Schedule.delays(retrySchedule), 0, Array(9).fill(0)));
  expect([...delays].map(Duration.toMillis)).toEqual([50, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
});

it('retries a transient failure on the schedule, keeping the messages alive, then commits', async () => {
  const s = setup(flaky(2));
  const run = await s.fork(commitWithRetry(s.ctx, s.batch, Effect.never, (e) => e));
  await time.advance(0);
  expect(s.handler.offered).toHaveLength(1);
  await time.advance(49);
  expect(s.handler.offered).toHaveLength(1);
  await time.advance(1);
  expect(s.handler.offered).toHaveLength(2);
  await time.advance(99);
  expect(s.handler.offered).toHaveLength(2);
  await time.advance(1);
  expect(s.handler.offered).toHaveLength(3);
  expect(run.exit && Exit.isSuccess(run.exit)).toBe(true);
  expect(s.batch.map((m) => m.workingCalls)).toEqual([2, 2]);
  const retries = await s.ctx.metrics.stageBatchRetries.get();
  expect(retries.values).toEqual([{ labels: { stage: 'capture', code: 'PG_08006' }, value: 2 }]);
});

it('a permanent failure is not retried: it comes back typed, at once', async () => {
  const s = setup(async () => {
    throw stageError('PG_23514', false);
  });
  const run = await s.fork(commitWithRetry(s.ctx, s.batch, Effect.never, (e) => e));
  await time.advance(0);
  expect(run.exit?._tag).toBe('Failure');
  const failure = Exit.isFailure(run.exit!) ? Cause.failureOption(run.exit.cause) : Option.none();
  expect(Option.getOrThrow(failure)).toMatchObject({
    _tag: 'PermanentFailure',
    error: { code: 'PG_23514' },
  });
  expect(s.handler.offered).toHaveLength(1);
});

it("when the consumer's messages end mid-retry, the batch is nakked, not dead-lettered", async () => {
  const s = setup(flaky(Number.POSITIVE_INFINITY));
  let end: () => void = () => {};
  const stopped = Effect.async<void>((resume) => {
    end = () => resume(Effect.void);
  });
  const run = await s.fork(processBatch(s.ctx, { held: s.held, stopped }, s.batch));
  await time.advance(50 + 100);
  expect(s.handler.offered).toHaveLength(3);
  end();
  await time.until('the batch handed back', () => run.exit !== undefined);
  expect(s.handler.offered).toHaveLength(3);
  expect(s.batch.map((m) => m.settled)).toEqual(['nak', 'nak']);
  expect(s.js.published).toEqual([]);
});

it('stopping the stage mid-retry naks the batch at once, without waiting out the delay', async () => {
  const s = setup(flaky(Number.POSITIVE_INFINITY));
  const run = await s.fork(processBatch(s.ctx, { held: s.held, stopped: Effect.never }, s.batch));
  await time.advance(50 + 100 + 200 + 400 + 800 + 1600 + 3200);
  expect(s.handler.offered).toHaveLength(8); // a first try and seven retries; now waiting 5 s
  await Effect.runPromise(Fiber.interrupt(run.fiber));
  expect(s.batch.map((m) => m.settled)).toEqual(['nak', 'nak']);
  expect(s.js.published).toEqual([]);
});

it('stopping the stage during a try lets the try finish: a batch that commits is acked', async () => {
  let release: () => void = () => {};
  const s = setup(async (batch) => {
    await new Promise<void>((resolve) => (release = resolve));
    return committed(batch);
  });
  const run = await s.fork(processBatch(s.ctx, { held: s.held, stopped: Effect.never }, s.batch));
  await time.until('the try started', () => s.handler.offered.length === 1);
  const stopping = Effect.runPromise(Fiber.interrupt(run.fiber));
  await time.advance(0);
  expect(run.exit).toBeUndefined();
  release();
  await stopping;
  expect(s.batch.map((m) => m.settled)).toEqual(['ack', 'ack']);
});

// SPDX-License-Identifier: MIT
// The stage's tick, in virtual time: every tickIntervalMs once attached, one run at a time; a failed run
// is logged and tried again next time; a broken invariant crashes the stage; stopping waits for a run in
// progress and starts no other.
import { afterEach, expect, it } from 'vitest';
import { InvariantError } from '../../../../pipelines/index.js';
import { startStage } from '../../../../pipelines/runner/run-stage.js';
import type { StageHandler } from '../../../../processors/index.js';
import {
  committed,
  FakeJetStream,
  fakeOptions,
  fakeStage,
  stageError,
  VirtualTime,
} from '../../../support/fake-jetstream.js';

let time: VirtualTime;
afterEach(() => time?.dispose());

async function start(tick: StageHandler['tick']) {
  time = new VirtualTime();
  const opts = fakeOptions(new FakeJetStream(), fakeStage(committed, { tick, tickIntervalMs: 1_000 }), {
    clock: time.clock,
  });
  return { running: await startStage(opts, await time.runtime()), logged: opts.logged };
}

it('ticks every interval, one run at a time: a slow run delays the next', async () => {
  let runs = 0;
  let finish: () => void = () => {};
  const { running } = await start(async () => {
    runs++;
    await new Promise<void>((resolve) => (finish = resolve));
  });
  await time.advance(999);
  expect(runs).toBe(0);
  await time.advance(1);
  expect(runs).toBe(1);
  await time.advance(5_000);
  expect(runs).toBe(1); // still running
  finish();
  await time.advance(999);
  expect(runs).toBe(1);
  await time.advance(1);
  expect(runs).toBe(2);
  const stopped = running.stop();
  await time.advance(0);
  let done = false;
  void stopped.then(() => (done = true));
  await time.advance(0);
  expect(done).toBe(false); // stopping waits for the run in progress
  finish();
  await stopped;
  await time.advance(10_000);
  expect(runs).toBe(2);
});

it('a failed run is logged and tried again at the next tick', async () => {
  let runs = 0;
  const { running, logged } = await start(async () => {
    runs++;
    if (runs === 1) throw stageError('PG_57P01', true);
  });
  await time.advance(2_000);
  expect(runs).toBe(2);
  expect(logged).toContain('warn capture: timer: PG_57P01 PG_57P01 happened');
  await running.stop();
});

it('a broken invariant in a run crashes the stage with that error', async () => {
  const broken = new InvariantError('deadline moved back');
  const { running } = await start(async () => {
    throw broken;
  });
  const crashed = running.done.catch((err: unknown) => err);
  await time.advance(1_000);
  expect(await crashed).toBe(broken);
});

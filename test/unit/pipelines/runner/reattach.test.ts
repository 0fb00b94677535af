// SPDX-License-Identifier: MIT
// A stage whose consumer is lost attaches again, backing off 100 ms, doubling, up to 5 s, in virtual time;
// what was buffered goes back to the stream; only the first attach may fail the stage; stopping ends the
// backoff and closes a subscription that was being attached.
import { Duration, Effect, Schedule } from 'effect';
import { afterEach, expect, it } from 'vitest';
import { reattachSchedule } from '../../../../pipelines/runner/reattach.js';
import { startStage } from '../../../../pipelines/runner/run-stage.js';
import {
  committed,
  FakeJetStream,
  FakeMsg,
  fakeOptions,
  fakeStage,
  VirtualTime,
} from '../../../support/fake-jetstream.js';

let time: VirtualTime;
afterEach(() => time?.dispose());

async function start(js = new FakeJetStream()) {
  time = new VirtualTime();
  const handler = fakeStage(committed);
  const opts = fakeOptions(js, handler, { clock: time.clock, batchMessagesMax: 2 });
  const running = await startStage(opts, await time.runtime());
  return { js, handler, running, logged: opts.logged };
}

it('backs off 100 ms, doubling, at most 5 s', () => {
  const delays = Effect.runSync(Schedule.run(Schedule.delays(reattachSchedule), 0, Array(8).fill(0)));
  expect([...delays].map(Duration.toMillis)).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
});

it('attaches again after a lost consumer; what was buffered goes back, new messages are processed', async () => {
  const { js, handler, running, logged } = await start();
  const lost = js.current;
  const buffered = [1, 2, 3].map((seq) => new FakeMsg(seq));
  lost.push(...buffered);
  lost.end();
  await time.until('the lost subscription drained', () => buffered.every((m) => m.settled));
  // One last batch (full: no linger) was processed; the rest went back to the stream.
  expect(buffered.map((m) => m.settled)).toEqual(['ack', 'ack', 'nak']);
  await time.advance(99);
  expect(js.attachCalls).toBe(1);
  await time.advance(1);
  expect(js.attachCalls).toBe(2);
  expect(logged).toContain('warn capture: consumer lost; attaching again in 100 ms');
  const again = new FakeMsg(3, { deliveryCount: 2 });
  js.current.push(again);
  await time.until('the redelivered message processed', () => again.settled === 'ack');
  expect(handler.offered.at(-1)).toEqual([3]);
  await running.stop();
});

it('failed attaches back off 100, 200, 400 ms; after a success the backoff starts at 100 ms again', async () => {
  const { js, running, logged } = await start();
  js.failAttaches = 2;
  js.current.end();
  for (const [wait, calls] of [
    [100, 2],
    [200, 3],
    [400, 4],
  ] as const) {
    await time.advance(wait - 1);
    expect(js.attachCalls).toBe(calls - 1);
    await time.advance(1);
    expect(js.attachCalls).toBe(calls);
  }
  expect(logged.filter((l) => l.includes('attach failed: consumer not found'))).toHaveLength(2);
  js.current.end();
  await time.advance(100);
  expect(js.attachCalls).toBe(5);
  await running.stop();
});

it('a first attach that fails rejects runStage with its error', async () => {
  const js = new FakeJetStream();
  js.failAttaches = 1;
  await expect(start(js)).rejects.toThrow('consumer not found');
  expect(js.attachCalls).toBe(1);
});

it('stopping ends the backoff at once and attaches no more', async () => {
  const { js, running } = await start();
  js.current.end();
  await time.advance(50);
  await running.stop();
  await expect(running.done).resolves.toBeUndefined();
  await time.advance(10_000);
  expect(js.attachCalls).toBe(1);
});

it('a subscription being attached when the stage stops is closed, not left behind', async () => {
  const { js, running } = await start();
  let open: () => void = () => {};
  js.attachGate = new Promise((resolve) => (open = resolve));
  js.current.end();
  await time.advance(100);
  expect(js.attachCalls).toBe(2);
  const stopped = running.stop();
  open();
  await stopped;
  expect(js.streams).toHaveLength(2);
  expect(js.streams.every((s) => s.closed)).toBe(true);
});

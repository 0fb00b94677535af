// SPDX-License-Identifier: MIT
// The runner as a whole, with fake messages in virtual time: messages are acked after the stage commits;
// a stage that applies in stream order gets messages it deferred offered again, lowest sequence first,
// until the gap is filled; stopping finishes the batch in hand and naks the rest; a broken invariant
// crashes the stage with that error and settles nothing in hand.
import { afterEach, expect, it } from 'vitest';
import { InvariantError } from '../../../../pipelines/index.js';
import { startStage } from '../../../../pipelines/runner/run-stage.js';
import type { StageMessage, StageResult } from '../../../../processors/index.js';
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

async function start(
  handle: (batch: readonly StageMessage[]) => Promise<StageResult>,
  close?: () => Promise<void>,
) {
  time = new VirtualTime();
  const js = new FakeJetStream();
  const handler = fakeStage(handle, close ? { close } : {});
  const opts = fakeOptions(js, handler, { clock: time.clock, batchMessagesMax: 3, ackWaitMs: 3_000 });
  return { js, handler, running: await startStage(opts, await time.runtime()) };
}

/** Applies messages strictly in stream order from seq 1; defers any that come after a gap. */
function inOrder() {
  let next = 1;
  const applied: number[] = [];
  const handle = async (batch: readonly StageMessage[]): Promise<StageResult> => {
    const deferred: number[] = [];
    for (const m of batch) {
      if (m.seq === next) {
        applied.push(m.seq);
        next++;
      } else deferred.push(m.seq);
    }
    return { events: batch.length - deferred.length, deadLetters: [], deferred };
  };
  return { handle, applied };
}

it('acks messages once the stage has committed them', async () => {
  const { js, handler, running } = await start(committed);
  const msgs = [1, 2, 3, 4].map((seq) => new FakeMsg(seq));
  js.current.push(...msgs);
  await time.until('all acked', () => msgs.every((m) => m.settled === 'ack'));
  expect(handler.offered.flat()).toEqual([1, 2, 3, 4]);
  await running.stop();
});

it('holds messages after a gap and offers them again, in order, until the gap is filled', async () => {
  const order = inOrder();
  const { js, handler, running } = await start(order.handle);
  const late = [3, 4].map((seq) => new FakeMsg(seq));
  js.current.push(...late);
  await time.until('3 and 4 offered twice', () => handler.offered.length >= 2);
  expect(handler.offered.slice(0, 2)).toEqual([
    [3, 4],
    [3, 4],
  ]);
  expect(late.map((m) => [m.settled, m.workingCalls])).toEqual([
    [undefined, 1],
    [undefined, 1],
  ]);
  // Held past a third of the ack wait: kept alive again.
  await time.advance(1_000);
  expect(late.map((m) => m.workingCalls)).toEqual([2, 2]);
  const gap = [2, 1].map((seq) => new FakeMsg(seq));
  js.current.push(...gap);
  await time.until('everything applied', () => [...late, ...gap].every((m) => m.settled === 'ack'));
  expect(order.applied).toEqual([1, 2, 3, 4]);
  // The gap and the held messages in one sorted stream: a full batch, then the rest.
  expect(handler.offered.slice(-2)).toEqual([[1, 2, 3], [4]]);
  await running.stop();
});

it('stopping finishes the batch in hand and naks what was buffered or held', async () => {
  let release: () => void = () => {};
  const { js, handler, running } = await start(async (batch) => {
    if (batch[0]!.seq === 1) await new Promise<void>((resolve) => (release = resolve));
    return { events: batch.length, deadLetters: [], deferred: batch[0]!.seq === 4 ? [4] : [] };
  });
  const held = new FakeMsg(4);
  js.current.push(held);
  await time.until('4 held', () => held.workingCalls === 1);
  const inHand = [1, 2, 3].map((seq) => new FakeMsg(seq));
  js.current.push(...inHand);
  await time.until('a batch in hand', () => handler.offered.some((b) => b[0] === 1));
  const buffered = [5, 6].map((seq) => new FakeMsg(seq));
  js.current.push(...buffered);
  const stopped = running.stop();
  await time.advance(100);
  release();
  await stopped;
  expect(inHand.map((m) => m.settled)).toEqual(['ack', 'ack', 'ack']);
  expect([held, ...buffered].map((m) => m.settled)).toEqual(['nak', 'nak', 'nak']);
  expect(js.current.closed).toBe(true);
});

it('stopping closes the stage once its last batch is settled, and stop waits for the close', async () => {
  const events: string[] = [];
  let finishClose: () => void = () => {};
  const { js, running } = await start(
    async (batch) => {
      events.push(`batch ${batch.map((m) => m.seq).join(',')}`);
      return { events: batch.length, deadLetters: [] };
    },
    () => {
      events.push('close');
      return new Promise<void>((resolve) => (finishClose = resolve));
    },
  );
  const msgs = [1, 2].map((seq) => new FakeMsg(seq));
  js.current.push(...msgs);
  await time.until('both acked', () => msgs.every((m) => m.settled === 'ack'));
  let stopped = false;
  const stopping = running.stop().then(() => {
    stopped = true;
  });
  await time.until('closing', () => events.includes('close'));
  expect(stopped).toBe(false);
  finishClose();
  await stopping;
  expect(events).toEqual(['batch 1,2', 'close']);
});

it('a broken invariant crashes the stage with that error; the batch in hand is not settled', async () => {
  const broken = new InvariantError('checkpoint moved back');
  const { js, running } = await start(async () => {
    throw broken;
  });
  const crashed = running.done.catch((err: unknown) => err);
  const msgs = [1, 2].map((seq) => new FakeMsg(seq));
  js.current.push(...msgs);
  await time.until('crashed', () => js.current.closed);
  expect(await crashed).toBe(broken);
  expect(msgs.map((m) => m.settled)).toEqual([undefined, undefined]);
});

it('a message with a sequence that is not positive is a broken invariant', async () => {
  const { js, handler, running } = await start(committed);
  const crashed = running.done.catch((err: unknown) => err);
  js.current.push(new FakeMsg(0));
  await time.until('crashed', () => js.current.closed);
  expect(await crashed).toBeInstanceOf(InvariantError);
  expect(handler.offered).toEqual([]);
});

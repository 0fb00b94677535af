// SPDX-License-Identifier: MIT
// Batching with held messages, in virtual time: a partial batch lingers for more, a full one goes at once;
// held messages are offered again with the new ones, lowest sequence first — also when nothing new comes;
// when the consumer's messages end, what is left goes in one last batch or back to the stream; a full
// buffer (bufferBatchesMax batches, or bufferBytesMax bytes) stops the reading until a batch is taken.
import { Effect, Fiber, Runtime } from 'effect';
import { afterEach, expect, it } from 'vitest';
import { stageHeldRetryMs, stageLingerMs } from '../../../../pipelines/limits.js';
import { Batcher, batchLength, bufferBatchesMax } from '../../../../pipelines/runner/batcher.js';
import {
  committed,
  FakeJetStream,
  FakeMessageStream,
  FakeMsg,
  fakeContext,
  fakeStage,
  VirtualTime,
} from '../../../support/fake-jetstream.js';

let time: VirtualTime;
afterEach(() => time?.dispose());

function setup(batchMessagesMax = 3, bufferBytesMax?: number, lingerMs?: number) {
  time = new VirtualTime();
  const stream = new FakeMessageStream();
  const ctx = fakeContext(new FakeJetStream(), fakeStage(committed), {
    batchMessagesMax,
    clock: time.clock,
    ...(bufferBytesMax === undefined ? {} : { bufferBytesMax }),
    ...(lingerMs === undefined ? {} : { lingerMs }),
  });
  const batcher = new Batcher(ctx, stream);
  const rt = time.runtime();
  /** Starts taking the next batch; `.taken` is set once it is there. */
  const next = async () => {
    const fiber = Runtime.runFork(await rt)(batcher.next);
    const box: { taken?: number[]; fiber: typeof fiber } = { fiber };
    fiber.addObserver((exit) => {
      if (exit._tag === 'Success') box.taken = exit.value.map((m) => m.seq);
    });
    return box;
  };
  return { stream, batcher, next };
}

const seqs = (...s: number[]) => s.map((seq) => new FakeMsg(seq));

it('waits for the first message, lingers for more, then takes up to a batch', async () => {
  const { stream, next } = setup();
  const first = await next();
  await time.advance(1_000);
  expect(first.taken).toBeUndefined(); // nothing came: still waiting
  stream.push(...seqs(1, 2));
  await time.advance(stageLingerMs - 1);
  expect(first.taken).toBeUndefined(); // lingering for more
  await time.advance(1);
  expect(first.taken).toEqual([1, 2]);
});

it('without a linger a partial batch goes once the messages at hand are buffered, the clock never moved', async () => {
  const { stream, next } = setup(3, undefined, 0);
  const first = await next();
  stream.push(...seqs(1, 2));
  await time.until('a partial batch', () => first.taken !== undefined, 1, 0);
  expect(first.taken).toEqual([1, 2]);
  // What arrives while a batch is in hand makes the next one.
  stream.push(...seqs(3));
  const second = await next();
  await time.until('the next', () => second.taken !== undefined, 1, 0);
  expect(second.taken).toEqual([3]);
});

it('a full batch goes at once; the rest waits for the next', async () => {
  const { stream, next } = setup();
  stream.push(...seqs(1, 2, 3, 4));
  await time.until('the pump buffered four', () => true);
  const first = await next();
  await time.until('a full batch', () => first.taken !== undefined, 1);
  expect(first.taken).toEqual([1, 2, 3]);
  const second = await next();
  await time.until('the rest', () => second.taken !== undefined, 1);
  expect(second.taken).toEqual([4]);
});

it('offers held messages again with the new ones, lowest sequence first; the overflow waits', async () => {
  const { stream, batcher, next } = setup();
  const [h5, h2] = seqs(5, 2);
  batcher.held.hold(h5!);
  batcher.held.hold(h2!);
  stream.push(...seqs(3, 1));
  const first = await next();
  await time.until('a batch', () => first.taken !== undefined, 1);
  expect(first.taken).toEqual([1, 2, 3]);
  const second = await next();
  await time.until('the overflow', () => second.taken !== undefined, 1);
  expect(second.taken).toEqual([5]);
});

it('offers held messages again after a pause when nothing new comes', async () => {
  const { batcher, next } = setup();
  const held = new FakeMsg(7);
  batcher.held.hold(held);
  const first = await next();
  await time.advance(stageHeldRetryMs - 1);
  expect(first.taken).toBeUndefined();
  await time.advance(1);
  expect(first.taken).toEqual([7]);
  expect(held.settled).toBeUndefined();
});

it('when the messages end: one last batch without lingering, then close naks what is left', async () => {
  const { stream, batcher, next } = setup(2);
  const msgs = seqs(1, 2, 3);
  stream.push(...msgs);
  stream.end();
  await time.until('the pump ended', () => batcher.ended);
  const last = await next();
  await time.until('the last batch', () => last.taken !== undefined, 1);
  expect(last.taken).toEqual([1, 2]);
  const held = new FakeMsg(9);
  batcher.held.hold(held);
  await batcher.close();
  expect([...msgs.map((m) => m.settled), held.settled]).toEqual([undefined, undefined, 'nak', 'nak']);
});

it("close stops the consumer's messages and interrupting a wait leaves nothing behind", async () => {
  const { stream, batcher, next } = setup();
  const waiting = await next();
  await time.advance(10);
  await Effect.runPromise(Fiber.interrupt(waiting.fiber));
  await batcher.close();
  expect(stream.closed).toBe(true);
  expect(batcher.ended).toBe(true);
});

it.each([
  ['batches', undefined, 3 * bufferBatchesMax],
  // 'body-N' is 6 bytes: 12 bytes hold two messages.
  ['bytes', 12, 2],
])(
  'stops reading while the buffer is full (%s), and reads on once a batch is taken',
  async (_, bytes, held) => {
    const { stream, next } = setup(3, bytes);
    stream.push(...seqs(...Array.from({ length: 20 }, (_, i) => i + 1)));
    await time.until('the pump filled the buffer', () => stream.unread === 20 - held);
    await time.advance(1_000);
    expect(stream.unread).toBe(20 - held); // still: the backlog stays with the consumer
    const first = await next();
    await time.until('a batch', () => first.taken !== undefined, stageLingerMs);
    expect(first.taken).toEqual(Array.from({ length: Math.min(3, held) }, (_, i) => i + 1));
    await time.until('the pump read on', () => stream.unread < 20 - held);
    expect(stream.unread).toBeGreaterThanOrEqual(20 - held - first.taken!.length);
  },
);

it('close ends while the buffer is full and the consumer holds more: everything goes back to the stream', async () => {
  // A stage retrying a batch while PostgreSQL is down stops taking batches; its buffer fills and the
  // client keeps what it already pulled. Stopping then hung for good (found by stopping right after a crash).
  const { stream, batcher } = setup(3);
  const msgs = seqs(...Array.from({ length: 20 }, (_, i) => i + 1));
  stream.push(...msgs);
  await time.until('the pump filled the buffer', () => stream.unread === 20 - 3 * bufferBatchesMax);
  await batcher.close();
  expect(stream.unread).toBe(0);
  expect(msgs.map((m) => m.settled)).toEqual(msgs.map(() => 'nak'));
}, 10_000);

it.each([
  // sizes of the buffered messages, limits → messages in the batch
  [[10, 10, 10], 5, 100, 3],
  [[10, 10, 10], 2, 100, 2],
  [[40, 40, 40], 5, 100, 2],
  [[40, 60, 40], 5, 100, 2],
  [[40, 61, 40], 5, 100, 1],
  [[500, 10], 5, 100, 1], // one message larger than the bound still makes a batch alone
  [[], 5, 100, 0],
])('batchLength(%j, %d messages, %d bytes) = %d', (sizes, messages, bytes, expected) => {
  const msgs = sizes.map((n, i) => Object.assign(new FakeMsg(i + 1), { data: new Uint8Array(n) }));
  expect(batchLength(msgs, { batchMessagesMax: messages, batchBytesMax: bytes })).toBe(expected);
});

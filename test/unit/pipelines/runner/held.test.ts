// SPDX-License-Identifier: MIT
// Held messages (a stage deferred them) are kept alive within the ack wait by the runner's clock, never
// twice per period, and beyond the hold limit the newest go back to the stream.
import { expect, it } from 'vitest';
import { HeldMessages } from '../../../../pipelines/runner/held.js';
import { FakeMsg } from '../../../support/fake-jetstream.js';

function setup(heldMax = 100) {
  let now = 0;
  const clock = { now: () => now };
  const held = new HeldMessages(clock, 1_000, heldMax);
  return { held, advance: (ms: number) => (now += ms) };
}

it('keeps a message alive when first held, and again only once a keep-alive period has passed', () => {
  const { held, advance } = setup();
  const m = new FakeMsg(4);
  held.hold(m);
  expect(m.workingCalls).toBe(1);
  expect(held.takeAll()).toEqual([m]);
  expect(held.size).toBe(0);
  held.hold(m); // deferred again: no second keep-alive right away
  advance(999);
  expect(held.takeAll()).toEqual([m]);
  expect(m.workingCalls).toBe(1);
  held.hold(m);
  advance(1);
  held.takeAll();
  expect(m.workingCalls).toBe(2);
  advance(999);
  held.takeAll();
  expect(m.workingCalls).toBe(2);
});

it('a message taken back into a batch is kept alive until it is settled', () => {
  const { held, advance } = setup();
  const back = new FakeMsg(1);
  const settled = new FakeMsg(2);
  held.hold(back);
  held.hold(settled);
  held.takeAll(); // both offered again; `back` did not fit the batch and waits in the buffer
  held.release(settled);
  held.hold(new FakeMsg(3));
  advance(1_000);
  held.takeAll();
  expect([back.workingCalls, settled.workingCalls]).toEqual([2, 1]);
});

it('beyond the hold limit, the newest go back to the stream (nak with a delay); the oldest stay', () => {
  const { held } = setup(3);
  const msgs = [5, 1, 4, 2, 3].map((seq) => new FakeMsg(seq));
  for (const m of msgs) held.hold(m);
  expect(held.takeAll().map((m) => m.seq)).toEqual([1, 2, 3]);
  const back = msgs.filter((m) => m.settled);
  expect(back.map((m) => [m.seq, m.settled, m.nakDelayMs])).toEqual([
    [5, 'nak', 500],
    [4, 'nak', 500],
  ]);
});

it('nakAll hands everything held back at once', () => {
  const { held } = setup();
  const msgs = [1, 2].map((seq) => new FakeMsg(seq));
  for (const m of msgs) held.hold(m);
  held.nakAll();
  expect(msgs.map((m) => m.settled)).toEqual(['nak', 'nak']);
  expect(held.size).toBe(0);
});

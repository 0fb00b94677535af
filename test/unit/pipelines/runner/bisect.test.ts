// SPDX-License-Identifier: MIT
// A batch from delivery to settlement, with fake messages: a permanent failure bisects the batch down to
// the poison message, which is dead-lettered (then acked) while the rest commit; what the stage itself
// judges poison or defers is dead-lettered or held; a broken invariant crashes and settles nothing.
import { Cause, Effect, Exit } from 'effect';
import { expect, it } from 'vitest';
import { InvariantError } from '../../../../pipelines/index.js';
import { processBatch } from '../../../../pipelines/runner/bisect.js';
import { HeldMessages } from '../../../../pipelines/runner/held.js';
import type { StageMessage } from '../../../../processors/index.js';
import {
  committed,
  FakeJetStream,
  FakeMsg,
  fakeContext,
  fakeStage,
  stageError,
} from '../../../support/fake-jetstream.js';

function setup(handle = committed, maxDeliver = 5) {
  const journal: string[] = [];
  const js = new FakeJetStream(journal);
  const handler = fakeStage(handle);
  const ctx = fakeContext(js, handler, { maxDeliver });
  const held = new HeldMessages({ now: () => 0 }, 1_000);
  const run = (batch: FakeMsg[]) =>
    Effect.runPromiseExit(processBatch(ctx, { held, stopped: Effect.never }, batch));
  const msgs = (...seqs: number[]) => seqs.map((seq) => new FakeMsg(seq, { journal }));
  return { js, handler, ctx, held, run, msgs, journal };
}

/** Fails the whole batch, permanently, when it holds one of the poison sequences. */
const refusing =
  (...poison: number[]) =>
  async (batch: readonly StageMessage[]) => {
    if (batch.some((m) => poison.includes(m.seq))) throw stageError('ENVELOPE_UNDECODABLE', false);
    return committed(batch);
  };

it('bisects a failing batch down to the poison message; dead-letters it, commits the rest', async () => {
  const s = setup(refusing(3));
  const batch = s.msgs(1, 2, 3, 4, 5);
  expect(Exit.isSuccess(await s.run(batch))).toBe(true);
  expect(s.handler.offered).toEqual([[1, 2, 3, 4, 5], [1, 2, 3], [1, 2], [3], [4, 5]]);
  expect(batch.map((m) => m.settled)).toEqual(['ack', 'ack', 'ack', 'ack', 'ack']);
  // The poison message is acked only after its dead letter is published.
  expect(s.journal).toEqual(['ack 1', 'ack 2', 'dead-letter 3', 'ack 3', 'ack 4', 'ack 5']);
  expect(s.js.published).toEqual([
    {
      subject: 't.dlq.capture',
      data: batch[2]!.data,
      msgID: 'T_IN:3:capture:dlq',
      headers: {
        'Tmi-Stage': 'capture',
        'Tmi-Error-Code': 'ENVELOPE_UNDECODABLE',
        'Tmi-Error': 'ENVELOPE_UNDECODABLE happened',
        'Tmi-Source-Subject': 't.in.target-3',
        'Tmi-Source-Seq': '3',
      },
    },
  ]);
  const failed = await s.ctx.metrics.stageEventsFailed.get();
  expect(failed.values).toEqual([{ labels: { stage: 'capture', code: 'ENVELOPE_UNDECODABLE' }, value: 1 }]);
});

it('two poison messages in one batch: each dead-lettered on its own, one at a time', async () => {
  const s = setup(refusing(2, 7));
  const batch = s.msgs(1, 2, 3, 4, 5, 6, 7, 8);
  await s.run(batch);
  expect(s.js.published.map((p) => p.headers['Tmi-Source-Seq'])).toEqual(['2', '7']);
  expect(batch.every((m) => m.settled === 'ack')).toBe(true);
  expect(s.handler.offered).toEqual([
    [1, 2, 3, 4, 5, 6, 7, 8],
    [1, 2, 3, 4],
    [1, 2],
    [1],
    [2],
    [3, 4],
    [5, 6, 7, 8],
    [5, 6],
    [7, 8],
    [7],
    [8],
  ]);
});

it('a batch of poison only: every message dead-lettered', async () => {
  const s = setup(refusing(1, 2));
  await s.run(s.msgs(1, 2));
  expect(s.journal).toEqual(['dead-letter 1', 'ack 1', 'dead-letter 2', 'ack 2']);
});

it('dead-letters what the stage judged poison and holds what it deferred; acks the rest', async () => {
  const s = setup(async () => ({
    events: 1,
    deadLetters: [{ seq: 2, code: 'FIELD_INVALID', reason: 'temp is not a number' }],
    deferred: [3, 2],
  }));
  const batch = s.msgs(1, 2, 3);
  await s.run(batch);
  expect(s.journal).toEqual(['ack 1', 'dead-letter 2', 'ack 2']);
  expect(s.js.published[0]!.headers['Tmi-Error']).toBe('temp is not a number');
  // Held: unacked, kept alive once, offered again by the batcher.
  expect(batch[2]!.settled).toBeUndefined();
  expect(batch[2]!.workingCalls).toBe(1);
  expect(s.held.takeAll()).toEqual([batch[2]]);
  expect((await s.ctx.metrics.stageMessagesDeferred.get()).values[0]!.value).toBe(2);
});

it('dead-letters a message delivered maxDeliver times without offering it to the stage', async () => {
  const s = setup(committed, 3);
  const journal: string[] = [];
  const tired = new FakeMsg(2, { deliveryCount: 3, journal });
  const fresh = new FakeMsg(1, { deliveryCount: 2, journal });
  await s.run([fresh, tired]);
  expect(s.handler.offered).toEqual([[1]]);
  expect(s.js.published[0]!.headers).toMatchObject({
    'Tmi-Error-Code': 'MAX_DELIVER',
    'Tmi-Error': 'delivered 3 times without success',
  });
  expect([fresh.settled, tired.settled]).toEqual(['ack', 'ack']);
});

it('a broken invariant crashes the batch: nothing acked, nakked or dead-lettered', async () => {
  const broken = new InvariantError('checkpoint moved back');
  const s = setup(async () => {
    throw broken;
  });
  const batch = s.msgs(1, 2, 3);
  const exit = await s.run(batch);
  expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toBe(broken);
  expect(s.handler.offered).toEqual([[1, 2, 3]]);
  expect(batch.map((m) => m.settled)).toEqual([undefined, undefined, undefined]);
  expect(s.js.published).toEqual([]);
});

// SPDX-License-Identifier: MIT
// The checkpoint of a stage whose output is in JetStream is written beside its batches (ADR 0035): one
// write in flight and at most one start per interval, batches ending meanwhile folded into the next, a failed write kept and retried, and
// while writes fail every batch is refused (not folded in) so the runner retries it.
import { describe, expect, it } from 'vitest';
import { CheckpointRegressionError, CheckpointWriter } from '../../projections/index.js';
import { useMigratedDatabase } from '../support/env.js';

const db = useMigratedDatabase('checkpoint_writer');

const writer = (consumer: string, synchronousCommit = true) =>
  new CheckpointWriter({ pool: db.pool, consumer, stream: 'TMI_NORM', synchronousCommit });

async function stored(consumer: string): Promise<{ stream_seq: number; events: number } | undefined> {
  const { rows } = await db.pool.query<{ stream_seq: number; events: number }>(
    'SELECT stream_seq, events::float8 AS events FROM tmi.consumer_checkpoint WHERE consumer = $1',
    [consumer],
  );
  return rows[0];
}

describe('CheckpointWriter', () => {
  it('folds the batches that end while a write is in flight into one next write', async () => {
    const w = writer('fold');
    for (let seq = 1; seq <= 50; seq++) w.record(seq, 2);
    await w.flush();
    // The first batch started a write; the 49 recorded before it committed went in one more.
    expect(w.writes).toBe(2);
    expect(await stored('fold')).toEqual({ stream_seq: 50, events: 100 });
  });

  it('starts a write no sooner than the interval after the last one started; a flush writes at once', async () => {
    let nowMs = 0;
    const w = new CheckpointWriter({
      pool: db.pool,
      consumer: 'interval',
      stream: 'TMI_NORM',
      synchronousCommit: true,
      writeIntervalMs: 100,
      nowMs: () => nowMs,
    });
    w.record(1, 1);
    expect(w.writing).toBe(true); // the first write starts at once
    await expect.poll(() => w.writing).toBe(false);
    nowMs = 99;
    w.record(2, 1);
    expect(w.writing).toBe(false); // 99 ms after the last start: it waits
    nowMs = 100;
    w.record(3, 1);
    expect(w.writing).toBe(true); // the interval has passed: 2 and 3 go together
    await expect.poll(() => w.writing).toBe(false);
    expect(w.writes).toBe(2);
    expect(await stored('interval')).toEqual({ stream_seq: 3, events: 3 });
    nowMs = 150;
    w.record(4, 1);
    expect(w.writing).toBe(false);
    await w.flush();
    expect(w.writes).toBe(3);
    expect(await stored('interval')).toEqual({ stream_seq: 4, events: 4 });
    w.close();
  });

  it('keeps the high-water mark when a lower sequence is recorded (redelivery)', async () => {
    const w = writer('hw', false);
    w.record(10, 1);
    await w.flush();
    w.record(4, 1);
    await w.flush();
    expect(await stored('hw')).toEqual({ stream_seq: 10, events: 2 });
  });

  it('refuses batches while its writes fail, and writes what it held once they succeed', async () => {
    const w = writer('blocked');
    await db.pool.query(
      "ALTER TABLE tmi.consumer_checkpoint ADD CONSTRAINT test_blocked CHECK (consumer <> 'blocked')",
    );
    try {
      w.record(5, 2);
      const failed = await w.flush().catch((e: unknown) => e);
      expect(failed).toMatchObject({ code: expect.any(String) });
      // The next batch is not folded in (it is not acked: the runner retries it).
      expect(() => w.record(6, 3)).toThrow();
      expect(await stored('blocked')).toBeUndefined();
    } finally {
      await db.pool.query('ALTER TABLE tmi.consumer_checkpoint DROP CONSTRAINT test_blocked');
    }
    await w.flush();
    expect(await stored('blocked')).toEqual({ stream_seq: 5, events: 2 });
    w.record(6, 3);
    await w.flush();
    expect(await stored('blocked')).toEqual({ stream_seq: 6, events: 5 });
    w.close();
  });

  it('a checkpoint that moved back surfaces as CheckpointRegressionError from the next batch', async () => {
    const w = writer('moved');
    w.record(20, 1);
    await w.flush();
    w.record(21, 1); // this process has now seen 20 committed
    await w.flush();
    await db.pool.query("UPDATE tmi.consumer_checkpoint SET stream_seq = 3 WHERE consumer = 'moved'");
    w.record(22, 1);
    await expect(w.flush()).rejects.toBeInstanceOf(CheckpointRegressionError);
    expect(() => w.record(23, 1)).toThrow(CheckpointRegressionError);
    w.close();
  });
});

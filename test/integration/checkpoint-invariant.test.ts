// SPDX-License-Identifier: MIT
// A checkpoint is a high-water mark: lower writes (redelivery, workers out of order) leave it as it is;
// a committed checkpoint that moved back is a broken invariant that crashes the stage, never a dead letter.
import { describe, expect, it } from 'vitest';
import { withTransaction } from '../../db/index.js';
import { classifyError } from '../../pipelines/index.js';
import { CheckpointRegressionError, saveCheckpoint } from '../../projections/index.js';
import { useMigratedDatabase } from '../support/env.js';

const db = useMigratedDatabase('checkpoint_invariant', 4);

const save = (consumer: string, seq: number) =>
  withTransaction(db.pool, (c) => saveCheckpoint(c, consumer, 'TMI_IN', seq, 1));

async function stored(consumer: string): Promise<number | undefined> {
  const { rows } = await db.pool.query<{ stream_seq: number }>(
    'SELECT stream_seq FROM tmi.consumer_checkpoint WHERE consumer = $1',
    [consumer],
  );
  return rows[0]?.stream_seq;
}

describe('saveCheckpoint', () => {
  it('keeps the high-water mark when a lower sequence commits (redelivery, workers out of order)', async () => {
    expect(await save('hw', 10)).toBe(10);
    expect(await save('hw', 4)).toBe(10);
    expect(await save('hw', 12)).toBe(12);
    expect(await stored('hw')).toBe(12);
  });

  it('a rolled-back write is not taken for a committed checkpoint', async () => {
    await save('rb', 5);
    await expect(
      withTransaction(db.pool, async (c) => {
        await saveCheckpoint(c, 'rb', 'TMI_IN', 50, 1);
        await saveCheckpoint(c, 'rb', 'TMI_IN', 60, 1); // reads its own uncommitted 50
        throw new Error('batch failed');
      }),
    ).rejects.toThrow('batch failed');
    expect(await save('rb', 6)).toBe(6);
  });

  it('throws CheckpointRegressionError when the committed checkpoint moved back, and changes nothing', async () => {
    await save('moved', 20);
    await save('moved', 21); // this process has now seen 20 committed
    await db.pool.query("UPDATE tmi.consumer_checkpoint SET stream_seq = 3 WHERE consumer = 'moved'");
    const err = await save('moved', 22).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointRegressionError);
    expect(err).toMatchObject({ _tag: 'CheckpointRegressionError', code: 'CHECKPOINT_REGRESSION' });
    expect(await stored('moved')).toBe(3); // the batch's transaction rolled back
    // The runner classifies every stage error; a broken invariant is rethrown (the stage crashes).
    expect(() => classifyError(err)).toThrow(CheckpointRegressionError);
  });
});

// SPDX-License-Identifier: MIT
import type { Pool, PoolClient } from '../db/index.js';

export class CheckpointRegressionError extends Error {
  readonly _tag = 'CheckpointRegressionError';
  readonly code = 'CHECKPOINT_REGRESSION';
  readonly isRetryable = false;
}

/**
 * Records, inside the batch's transaction, the highest stream sequence the stage has committed. Several
 * workers may share a stage and commit out of order, so the stored value is a high-water mark: it only
 * rises. A stored value that went down would be a broken invariant: crash.
 */
export async function saveCheckpoint(
  client: PoolClient,
  consumer: string,
  stream: string,
  seq: number,
  events: number,
): Promise<number> {
  const { rows } = await client.query<{ stream_seq: number; previous: number | null }>(
    `WITH prev AS (SELECT stream_seq FROM tmi.consumer_checkpoint WHERE consumer = $1 FOR UPDATE)
     INSERT INTO tmi.consumer_checkpoint AS c (consumer, stream, stream_seq, events)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (consumer) DO UPDATE
       SET stream_seq = GREATEST(c.stream_seq, excluded.stream_seq), events = c.events + excluded.events, updated_at = now()
     RETURNING stream_seq, (SELECT stream_seq FROM prev) AS previous`,
    [consumer, stream, seq, events],
  );
  const row = rows[0]!;
  if (row.previous !== null && row.stream_seq < row.previous) {
    throw new CheckpointRegressionError(
      `checkpoint of ${consumer} moved back from ${row.previous} to ${row.stream_seq}`,
    );
  }
  return row.stream_seq;
}

export interface CheckpointRow {
  readonly consumer: string;
  readonly stream: string;
  readonly stream_seq: number;
  readonly events: number;
  readonly updated_at: string;
}

export async function listCheckpoints(pool: Pool): Promise<CheckpointRow[]> {
  const { rows } = await pool.query<CheckpointRow>(
    'SELECT consumer, stream, stream_seq, events, updated_at FROM tmi.consumer_checkpoint ORDER BY consumer',
  );
  return rows;
}

// SPDX-License-Identifier: MIT
// The stages' checkpoints: a high-water mark per consumer, written in each batch's transaction.
import type { Pool, PoolClient } from '../db/index.js';
import { TaggedError, type TmiErrorOptions } from '../errors/index.js';

export class CheckpointRegressionError extends TaggedError(
  'CheckpointRegressionError',
)<'CHECKPOINT_REGRESSION'> {
  constructor(message: string, options?: TmiErrorOptions) {
    super('CHECKPOINT_REGRESSION', message, options);
  }
}

/**
 * The highest committed checkpoint this process has read, per database and consumer. Committed values
 * only rise (the upsert keeps the high-water mark), so a later read below an earlier one means something
 * moved the checkpoint back behind the stages' backs (a restored backup, a hand edit, a stream reset).
 */
const committedSeen = new Map<string, number>();

function checkpointKey(client: PoolClient, consumer: string): string {
  const c = client as { host?: string; port?: number; database?: string };
  return `${c.host}:${c.port}/${c.database}#${consumer}`;
}

/**
 * Records, inside the batch's transaction, the highest stream sequence the stage has committed. Several
 * workers may share a stage and commit out of order (and a redelivered batch commits again), so the stored
 * value is a high-water mark: a lower `seq` leaves it as it is. The committed value read under the row lock
 * must never be below one read before: if it is, the checkpoint moved back — CheckpointRegressionError,
 * a broken invariant that crashes the stage (classifyError rethrows it; nothing is dead-lettered).
 */
export async function saveCheckpoint(
  client: PoolClient,
  consumer: string,
  stream: string,
  seq: number,
  events: number,
): Promise<number> {
  // The join makes `prev` lock and read the row before the upsert changes it (a CTE read only in RETURNING
  // would run after, skip the row this statement updated and always say null). `ours`: the row version
  // is this transaction's own earlier write, not a committed value.
  const { rows } = await client.query<{ stream_seq: number; previous: number | null; ours: boolean | null }>(
    `WITH prev AS (
       SELECT stream_seq, xmin = pg_current_xact_id()::xid AS ours
       FROM tmi.consumer_checkpoint WHERE consumer = $1 FOR UPDATE)
     INSERT INTO tmi.consumer_checkpoint AS c (consumer, stream, stream_seq, events)
     SELECT $1::text, $2::text, $3::bigint, $4::bigint FROM (VALUES (1)) AS one LEFT JOIN prev ON true
     ON CONFLICT (consumer) DO UPDATE
       SET stream_seq = GREATEST(c.stream_seq, excluded.stream_seq), events = c.events + excluded.events, updated_at = now()
     RETURNING stream_seq, (SELECT stream_seq FROM prev) AS previous, (SELECT ours FROM prev) AS ours`,
    [consumer, stream, seq, events],
  );
  const row = rows[0]!;
  if (row.ours === true) return row.stream_seq;
  const previous = row.previous ?? 0;
  const key = checkpointKey(client, consumer);
  const seen = committedSeen.get(key) ?? 0;
  if (previous < seen) {
    throw new CheckpointRegressionError(
      `checkpoint of ${consumer} moved back from ${seen} to ${row.previous ?? 'nothing'}`,
    );
  }
  committedSeen.set(key, previous);
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

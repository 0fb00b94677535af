// SPDX-License-Identifier: MIT
// The outbox of alarm transitions: the alarm stage publishes it after the commit (Nats-Msg-Id
// `<alarm_id>:<transition>`) and deletes what it published.
import type { Pool } from '../../db/index.js';

export interface OutboxRow {
  readonly outbox_id: number;
  readonly msg_id: string;
  readonly target_id: string;
  readonly body: Record<string, unknown>;
}

/** One drainer at a time (per database), so transitions of a target are published in the order made. */
const outboxLockKey = 0x746d6941; // 'tmiA'

/**
 * Publishes the oldest outbox rows (up to `limit`) with `publish` and deletes them, in one transaction
 * holding the drain lock. Returns how many were published; 0 when another drainer holds the lock. A crash
 * after publishing and before the commit republishes them: their Nats-Msg-Id makes JetStream drop them.
 */
export async function drainOutbox(
  pool: Pool,
  limit: number,
  publish: (rows: readonly OutboxRow[]) => Promise<void>,
): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const lock = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
      outboxLockKey,
    ]);
    if (!lock.rows[0]!.ok) {
      await client.query('ROLLBACK');
      return 0;
    }
    const { rows } = await client.query<OutboxRow>(
      'SELECT outbox_id, msg_id, target_id, body FROM tmi.alarm_outbox ORDER BY outbox_id LIMIT $1',
      [limit],
    );
    if (rows.length > 0) {
      await publish(rows);
      await client.query('DELETE FROM tmi.alarm_outbox WHERE outbox_id = ANY($1::bigint[])', [
        rows.map((r) => r.outbox_id),
      ]);
    }
    await client.query('COMMIT');
    return rows.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export async function outboxBacklog(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tmi.alarm_outbox');
  return rows[0]!.n;
}

// SPDX-License-Identifier: MIT
// The tmi.speak() outbox drainer (the built-in `speak` connector). Woken by NOTIFY tmi_speak at each
// commit that spoke, and every speakPollMs anyway (a lost notification or LISTEN connection delays, never
// loses). Each batch: lock rows (FOR UPDATE SKIP LOCKED), publish them with their event ids, move the
// refused ones to tmi.speak_rejected, delete the rest — all in the one transaction that holds the locks,
// committed after the PubAck. A crash before the commit republishes the same ids: deduplicated.
import type { Pool, PoolClient } from '../../db/index.js';
import { withTransaction } from '../../db/index.js';
import type { ConnectorSession, PullSource, SourceDeps, SourceEvent, TickResult } from '../runtime/types.js';
import type { OutboxConfig } from './config.js';

export const speakChannel = 'tmi_speak';

interface OutboxRow {
  outbox_id: number;
  event_id: string;
  target_id: string;
  data: unknown;
  ts_ms: number;
}

export class OutboxSource implements PullSource {
  readonly style = 'pull';
  private listener: { readonly client: PoolClient; readonly giveBack: () => void } | undefined;
  /** Set by close(): a LISTEN connection still being made must then be given back, not kept. */
  private closed = false;

  constructor(
    private readonly config: OutboxConfig,
    private readonly deps: SourceDeps,
  ) {}

  async tick(session: ConnectorSession): Promise<TickResult> {
    await this.listen(session);
    for (;;) {
      const drained = await this.drainBatch(session);
      if (drained < this.config.batchRows || session.signal.aborted) break;
    }
    return { nextRunAt: this.deps.now() + this.deps.speakPollMs };
  }

  async close(): Promise<void> {
    this.closed = true;
    const l = this.listener;
    this.listener = undefined;
    if (l) {
      await l.client.query(`UNLISTEN ${speakChannel}`).catch(() => {});
      l.giveBack();
    }
  }

  /**
   * One connection kept for LISTEN; if it breaks, the next tick makes a new one (polling covers the gap).
   * Every path gives the connection back exactly once — a connection kept after close() (made while the
   * connector was stopping) or lost to a failed LISTEN would hold the pool's end() forever.
   */
  private async listen(session: ConnectorSession): Promise<void> {
    if (this.listener || this.closed) return;
    const client = await this.deps.pool.connect();
    let released = false;
    const giveBack = () => {
      if (this.listener?.client === client) this.listener = undefined;
      if (!released) client.release(true);
      released = true;
    };
    client.on('notification', () => session.wake());
    client.on('error', giveBack);
    try {
      await client.query(`LISTEN ${speakChannel}`);
    } catch (err) {
      giveBack();
      throw err;
    }
    if (this.closed || released) return giveBack();
    this.listener = { client, giveBack };
  }

  private drainBatch(session: ConnectorSession): Promise<number> {
    return withTransaction(this.deps.pool, async (client) => {
      const { rows } = await client.query<OutboxRow>(
        `SELECT outbox_id, event_id, target_id, data, (extract(epoch FROM ts) * 1000)::float8 AS ts_ms
         FROM tmi.speak_outbox ORDER BY outbox_id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.config.batchRows],
      );
      if (rows.length === 0) return 0;
      const events: SourceEvent[] = rows.map((r) => ({
        eventId: r.event_id,
        targetId: r.target_id,
        ts: r.ts_ms,
        data: r.data as Record<string, unknown>,
        origin: `outbox ${r.outbox_id}`,
      }));
      const outcome = await session.publish(events);
      const byEvent = new Map(rows.map((r) => [r.event_id, r.outbox_id]));
      if (outcome.rejected.length > 0) {
        await client.query(
          `INSERT INTO tmi.speak_rejected (outbox_id, event_id, target_id, data, ts, db_user, created_at, code, reason)
           SELECT o.outbox_id, o.event_id, o.target_id, o.data, o.ts, o.db_user, o.created_at, r.code, r.reason
           FROM tmi.speak_outbox o JOIN json_to_recordset($1::json) AS r(outbox_id bigint, code text, reason text)
             USING (outbox_id)
           ON CONFLICT (outbox_id) DO NOTHING`,
          [
            JSON.stringify(
              outcome.rejected.map((r) => ({
                outbox_id: byEvent.get(r.eventId!),
                code: r.code,
                reason: r.reason,
              })),
            ),
          ],
        );
      }
      await client.query('DELETE FROM tmi.speak_outbox WHERE outbox_id = ANY($1::bigint[])', [
        rows.map((r) => r.outbox_id),
      ]);
      await session.commit(client, outcome);
      return rows.length;
    });
  }
}

/** Forgets refused tmi.speak() rows older than `olderThanMs` (run by the hourly maintenance). */
export async function pruneRejectedSpeaks(pool: Pool, olderThanMs: number): Promise<number> {
  const res = await pool.query(
    'DELETE FROM tmi.speak_rejected WHERE rejected_at < now() - make_interval(secs => $1::float8 / 1000)',
    [olderThanMs],
  );
  return res.rowCount ?? 0;
}

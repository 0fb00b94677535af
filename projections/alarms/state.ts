// SPDX-License-Identifier: MIT
// The alarm stage's evaluation state per rule × target (tmi.alarm_state, with the deadline it waits for)
// and its frontier in TMI_NORM.
import type { PoolClient } from '../../db/index.js';

export interface StateRowIn {
  readonly rule_id: string;
  readonly target_id: string;
  readonly rule_version: number;
  readonly state: unknown;
  readonly due_us: number | null;
}

export interface StoredStateRow extends StateRowIn {
  readonly kind: string | null;
}

/** Locks (FOR UPDATE, in key order) and reads the evaluation states of these rule × target pairs. */
export async function lockStates(
  client: PoolClient,
  pairs: readonly { readonly rule_id: string; readonly target_id: string }[],
): Promise<StoredStateRow[]> {
  if (pairs.length === 0) return [];
  const { rows } = await client.query<StoredStateRow>(
    `SELECT s.rule_id, s.target_id, s.rule_version, s.state, s.due_us, NULL::text AS kind
     FROM tmi.alarm_state s JOIN unnest($1::uuid[], $2::uuid[]) AS k(rule_id, target_id)
       ON s.rule_id = k.rule_id AND s.target_id = k.target_id
     ORDER BY s.rule_id, s.target_id FOR UPDATE OF s`,
    [pairs.map((p) => p.rule_id), pairs.map((p) => p.target_id)],
  );
  return rows;
}

/** Claims states whose deadline has passed (skipping those another transaction holds), oldest first. */
export async function claimDueStates(
  client: PoolClient,
  nowMicros: number,
  limit: number,
): Promise<StoredStateRow[]> {
  const { rows } = await client.query<StoredStateRow>(
    `SELECT s.rule_id, s.target_id, s.rule_version, s.state, s.due_us, t.kind
     FROM tmi.alarm_state s LEFT JOIN tmi.target t ON t.target_id = s.target_id
     WHERE s.due_us <= $1 ORDER BY s.due_us LIMIT $2 FOR UPDATE OF s SKIP LOCKED`,
    [nowMicros, limit],
  );
  return rows;
}

export async function saveStates(client: PoolClient, rows: readonly StateRowIn[]): Promise<void> {
  if (rows.length === 0) return;
  await client.query(
    `INSERT INTO tmi.alarm_state AS s (rule_id, target_id, rule_version, state, due_us)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::jsonb[], $5::bigint[])
     ON CONFLICT (rule_id, target_id) DO UPDATE
       SET rule_version = excluded.rule_version, state = excluded.state, due_us = excluded.due_us, updated_at = now()`,
    [
      rows.map((r) => r.rule_id),
      rows.map((r) => r.target_id),
      rows.map((r) => r.rule_version),
      rows.map((r) => JSON.stringify(r.state)),
      rows.map((r) => r.due_us),
    ],
  );
}

/**
 * The alarm stage's frontier (its checkpoint: every TMI_NORM sequence up to it is applied), locked for the
 * batch's transaction so two workers never apply the same run. Undefined before the first batch.
 */
export async function lockFrontier(client: PoolClient, consumer: string): Promise<number | undefined> {
  const { rows } = await client.query<{ stream_seq: number }>(
    'SELECT stream_seq FROM tmi.consumer_checkpoint WHERE consumer = $1 FOR UPDATE',
    [consumer],
  );
  return rows[0]?.stream_seq;
}

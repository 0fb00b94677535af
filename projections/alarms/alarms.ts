// SPDX-License-Identifier: MIT
// Alarms (active → acknowledged → cleared): reads, the manual acknowledge and clear, and the alarm stage's
// batch of raises and clears. Every change writes, in the same transaction, its history and outbox rows
// (transitions.ts). Lock order everywhere: rule rows, then state rows, then alarm rows.
import type { Pool, PoolClient } from '../../db/index.js';
import { TaggedError } from '../../errors/index.js';
import { isoOf } from '../sql.js';
import type { AlarmRow, AlarmStateName } from './alarm-row.js';
import { recordTransitions, transitionOf } from './transitions.js';

export type { AlarmRow, AlarmStateName } from './alarm-row.js';
export { alarmStateNames } from './alarm-row.js';

const alarmColumns = `a.alarm_id, a.rule_id, r.name AS rule_name, r.type AS rule_type, a.rule_version, a.target_id,
  t.kind, a.severity, a.state, ${isoOf('a.raised_at')} AS raised_at, a.reason, a.trigger,
  ${isoOf('a.acknowledged_at')} AS acknowledged_at, a.acknowledged_by,
  ${isoOf('a.cleared_at')} AS cleared_at, a.cleared_by, a.clear_reason, ${isoOf('a.updated_at')} AS updated_at`;
const alarmFrom = `tmi.alarm a JOIN tmi.alarm_rule r ON r.rule_id = a.rule_id
  LEFT JOIN tmi.target t ON t.target_id = a.target_id`;

export interface AlarmListQuery {
  readonly states?: readonly AlarmStateName[];
  readonly targetId?: string;
  readonly ruleId?: string;
  readonly severities?: readonly string[];
  /** Cursor: the (raised_at, alarm_id) of the last alarm of the previous page. */
  readonly after?: { readonly raisedAt: string; readonly alarmId: string };
  readonly limit: number;
}

/** Newest first (raised_at, then alarm_id, descending). */
export async function listAlarms(pool: Pool, q: AlarmListQuery): Promise<AlarmRow[]> {
  const { rows } = await pool.query<AlarmRow>(
    `SELECT ${alarmColumns} FROM ${alarmFrom}
     WHERE ($1::text[] IS NULL OR a.state = ANY($1)) AND ($2::uuid IS NULL OR a.target_id = $2)
       AND ($3::uuid IS NULL OR a.rule_id = $3) AND ($4::text[] IS NULL OR a.severity = ANY($4))
       AND ($5::timestamptz IS NULL OR (a.raised_at, a.alarm_id) < ($5::timestamptz, $6::uuid))
     ORDER BY a.raised_at DESC, a.alarm_id DESC LIMIT $7`,
    [
      q.states ?? null,
      q.targetId ?? null,
      q.ruleId ?? null,
      q.severities ?? null,
      q.after?.raisedAt ?? null,
      q.after?.alarmId ?? null,
      q.limit,
    ],
  );
  return rows;
}

export async function getAlarm(pool: Pool | PoolClient, alarmId: string): Promise<AlarmRow | undefined> {
  const { rows } = await pool.query<AlarmRow>(
    `SELECT ${alarmColumns} FROM ${alarmFrom} WHERE a.alarm_id = $1`,
    [alarmId],
  );
  return rows[0];
}

export interface AlarmEventRow {
  readonly transition: 'raised' | 'acknowledged' | 'cleared';
  readonly at: string;
  readonly by: string;
  readonly reason: string;
  readonly detail: Record<string, unknown>;
}

export async function listAlarmEvents(pool: Pool, alarmId: string): Promise<AlarmEventRow[]> {
  const { rows } = await pool.query<AlarmEventRow>(
    `SELECT transition, ${isoOf('at')} AS at, by, reason, detail FROM tmi.alarm_event WHERE alarm_id = $1
     ORDER BY recorded_at, array_position(ARRAY['raised', 'acknowledged', 'cleared'], transition)`,
    [alarmId],
  );
  return rows;
}

/** Only an open alarm can be acknowledged; the one state that is not open is cleared. */
export class AlarmClearedError extends TaggedError('AlarmClearedError')<'ALARM_CLEARED'> {
  constructor(message: string) {
    super('ALARM_CLEARED', message);
  }
}

/**
 * Acknowledges an active alarm. Acknowledging an acknowledged alarm changes nothing (a retry is safe);
 * a cleared alarm cannot be acknowledged (409). Undefined: no such alarm.
 */
export async function acknowledgeAlarm(
  client: PoolClient,
  alarmId: string,
  by: string,
  note: string,
): Promise<AlarmRow | undefined> {
  const current = await lockAlarm(client, alarmId);
  if (current === undefined) return undefined;
  if (current.state === 'cleared') {
    throw new AlarmClearedError(
      `alarm ${alarmId} was cleared at ${current.cleared_at}; it cannot be acknowledged`,
    );
  }
  if (current.state === 'acknowledged') return current;
  const { rows } = await client.query<{ at: string }>(
    `UPDATE tmi.alarm SET state = 'acknowledged', acknowledged_at = clock_timestamp(), acknowledged_by = $2,
       updated_at = now() WHERE alarm_id = $1 RETURNING ${isoOf('acknowledged_at')} AS at`,
    [alarmId, by],
  );
  const at = rows[0]!.at;
  await recordTransitions(client, [
    transitionOf(current, {
      transition: 'acknowledged',
      state: 'acknowledged',
      at,
      by,
      reason: note || 'acknowledged',
    }),
  ]);
  return getAlarm(client, alarmId);
}

/**
 * Clears an open alarm by hand. `resetState` turns the rule × target evaluation state into what it must be
 * after a manual clear (the alarm stage's pure core knows its shape). Clearing a cleared alarm changes
 * nothing. Undefined: no such alarm.
 */
export async function clearAlarmByHand(
  client: PoolClient,
  alarmId: string,
  by: string,
  note: string,
  resetState: (state: unknown) => unknown,
): Promise<AlarmRow | undefined> {
  const key = await client.query<{ rule_id: string; target_id: string }>(
    'SELECT rule_id, target_id FROM tmi.alarm WHERE alarm_id = $1',
    [alarmId],
  );
  const pair = key.rows[0];
  if (pair === undefined) return undefined;
  const state = await client.query<{ state: unknown }>(
    'SELECT state FROM tmi.alarm_state WHERE rule_id = $1 AND target_id = $2 FOR UPDATE',
    [pair.rule_id, pair.target_id],
  );
  const current = await lockAlarm(client, alarmId);
  if (current === undefined) return undefined;
  if (current.state === 'cleared') return current;
  const { rows } = await client.query<{ at: string }>(
    `UPDATE tmi.alarm SET state = 'cleared', cleared_at = clock_timestamp(), cleared_by = $2, clear_reason = $3,
       updated_at = now() WHERE alarm_id = $1 RETURNING ${isoOf('cleared_at')} AS at`,
    [alarmId, by, note || 'cleared by hand'],
  );
  const at = rows[0]!.at;
  await recordTransitions(client, [
    transitionOf(current, {
      transition: 'cleared',
      state: 'cleared',
      at,
      by,
      reason: note || 'cleared by hand',
    }),
  ]);
  const stored = state.rows[0];
  if (stored !== undefined) {
    await client.query(
      'UPDATE tmi.alarm_state SET state = $3, due_us = NULL, updated_at = now() WHERE rule_id = $1 AND target_id = $2',
      [pair.rule_id, pair.target_id, JSON.stringify(resetState(stored.state))],
    );
  }
  return getAlarm(client, alarmId);
}

async function lockAlarm(client: PoolClient, alarmId: string): Promise<AlarmRow | undefined> {
  const { rows } = await client.query<AlarmRow>(
    `SELECT ${alarmColumns} FROM ${alarmFrom} WHERE a.alarm_id = $1 FOR UPDATE OF a`,
    [alarmId],
  );
  return rows[0];
}

/** Clears the open alarms of a rule or of a target, with their history and outbox rows. */
export async function closeOpenAlarms(
  client: PoolClient,
  where: { ruleId: string } | { targetId: string },
  reason: string,
): Promise<number> {
  const column = 'ruleId' in where ? 'rule_id' : 'target_id';
  const id = 'ruleId' in where ? where.ruleId : where.targetId;
  const { rows: open } = await client.query<AlarmRow>(
    `SELECT ${alarmColumns} FROM ${alarmFrom} WHERE a.${column} = $1 AND a.state <> 'cleared'
     ORDER BY a.alarm_id FOR UPDATE OF a`,
    [id],
  );
  if (open.length === 0) return 0;
  const { rows } = await client.query<{ alarm_id: string; at: string }>(
    `UPDATE tmi.alarm SET state = 'cleared', cleared_at = clock_timestamp(), cleared_by = 'tmidb', clear_reason = $2,
       updated_at = now() WHERE alarm_id = ANY($1::uuid[]) RETURNING alarm_id, ${isoOf('cleared_at')} AS at`,
    [open.map((a) => a.alarm_id), reason],
  );
  const at = new Map(rows.map((r) => [r.alarm_id, r.at]));
  await recordTransitions(
    client,
    open.map((a) =>
      transitionOf(a, {
        transition: 'cleared',
        state: 'cleared',
        at: at.get(a.alarm_id)!,
        by: 'tmidb',
        reason,
      }),
    ),
  );
  return open.length;
}

/** An alarm the stage raised in this batch, with its state at the end of the batch. */
export interface NewAlarmRow
  extends Pick<
    AlarmRow,
    | 'alarm_id'
    | 'rule_id'
    | 'rule_version'
    | 'target_id'
    | 'severity'
    | 'raised_at'
    | 'reason'
    | 'clear_reason'
  > {
  readonly trigger: Record<string, unknown>;
  /** Set when the alarm was also cleared within the batch. */
  readonly cleared_at: string | null;
}

/** An alarm raised in an earlier batch that the stage cleared in this one. */
export interface ClearedAlarmRow {
  readonly alarm_id: string;
  readonly cleared_at: string;
  readonly clear_reason: string;
}

/**
 * Writes a batch's alarm changes: first clears of alarms raised before (so the one-open-alarm index never
 * sees two), then the new alarms (already cleared if they were within the batch). Returns the ids that
 * actually changed: a redelivered batch whose effects are already stored changes nothing.
 */
export async function writeAlarmChanges(
  client: PoolClient,
  cleared: readonly ClearedAlarmRow[],
  raised: readonly NewAlarmRow[],
): Promise<{ cleared: Set<string>; raised: Set<string> }> {
  const out = { cleared: new Set<string>(), raised: new Set<string>() };
  if (cleared.length > 0) {
    const { rows } = await client.query<{ alarm_id: string }>(
      `UPDATE tmi.alarm a SET state = 'cleared', cleared_at = c.at, cleared_by = 'tmidb', clear_reason = c.reason,
         updated_at = now()
       FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS c(alarm_id, at, reason)
       WHERE a.alarm_id = c.alarm_id AND a.state <> 'cleared' RETURNING a.alarm_id`,
      [cleared.map((c) => c.alarm_id), cleared.map((c) => c.cleared_at), cleared.map((c) => c.clear_reason)],
    );
    for (const r of rows) out.cleared.add(r.alarm_id);
  }
  if (raised.length > 0) {
    const { rows } = await client.query<{ alarm_id: string }>(
      `INSERT INTO tmi.alarm (alarm_id, rule_id, rule_version, target_id, severity, state, raised_at, reason, trigger,
         cleared_at, cleared_by, clear_reason)
       SELECT n.alarm_id, n.rule_id, n.rule_version, n.target_id, n.severity,
         CASE WHEN n.cleared_at IS NULL THEN 'active' ELSE 'cleared' END, n.raised_at, n.reason, n.trigger,
         n.cleared_at, CASE WHEN n.cleared_at IS NULL THEN NULL ELSE 'tmidb' END, n.clear_reason
       FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::uuid[], $5::text[], $6::timestamptz[], $7::text[],
                   $8::jsonb[], $9::timestamptz[], $10::text[])
         AS n(alarm_id, rule_id, rule_version, target_id, severity, raised_at, reason, trigger, cleared_at, clear_reason)
       -- Any conflict: the same alarm again (a redelivery), or an open alarm of the pair that the state lost.
       ON CONFLICT DO NOTHING RETURNING alarm_id`,
      [
        raised.map((r) => r.alarm_id),
        raised.map((r) => r.rule_id),
        raised.map((r) => r.rule_version),
        raised.map((r) => r.target_id),
        raised.map((r) => r.severity),
        raised.map((r) => r.raised_at),
        raised.map((r) => r.reason),
        raised.map((r) => JSON.stringify(r.trigger)),
        raised.map((r) => r.cleared_at),
        raised.map((r) => r.clear_reason),
      ],
    );
    for (const r of rows) out.raised.add(r.alarm_id);
  }
  return out;
}

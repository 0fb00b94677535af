// SPDX-License-Identifier: MIT
// The alarm read model and its writes: rules, alarms (active → acknowledged → cleared), their history,
// the evaluation state per rule × target, and the outbox of transitions to publish on <ns>.alarm.<target>.
// Every change of an alarm writes, in the same transaction, its history row and its outbox row; the alarm
// stage publishes the outbox after the commit (Nats-Msg-Id `<alarm_id>:<transition>`) and deletes it.
// Lock order everywhere: rule rows, then state rows, then alarm rows (so writers don't deadlock).

import type { Pool, PoolClient } from '../db/index.js';
import { TaggedError } from '../errors/index.js';
import { isoOf } from './sql.js';

// ── rules ───────────────────────────────────────────────────────────────────

export interface AlarmRuleRow {
  readonly rule_id: string;
  readonly name: string;
  readonly description: string;
  readonly target_id: string | null;
  readonly kind: string | null;
  readonly severity: string;
  readonly type: string;
  readonly spec: Record<string, unknown>;
  readonly enabled: boolean;
  readonly version: number;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface NewAlarmRule {
  readonly name: string;
  readonly description: string;
  readonly target_id: string | null;
  readonly kind: string | null;
  readonly severity: string;
  readonly type: string;
  /** The type's definition without `type` (condition, clear, for_s; field, timeout_s; fence, trigger, for_s). */
  readonly spec: Record<string, unknown>;
  readonly enabled: boolean;
}

const ruleColumns = `r.rule_id, r.name, r.description, r.target_id, r.kind, r.severity, r.type, r.spec, r.enabled,
  r.version, ${isoOf('r.created_at')} AS created_at, ${isoOf('r.updated_at')} AS updated_at`;

/** $1 … $9 of the insert and the update: the rule's id and its definition. */
function ruleParams(ruleId: string, rule: NewAlarmRule): unknown[] {
  const { name, description, target_id, kind, severity, type, spec, enabled } = rule;
  return [ruleId, name, description, target_id, kind, severity, type, JSON.stringify(spec), enabled];
}

export async function insertAlarmRule(pool: Pool, ruleId: string, rule: NewAlarmRule): Promise<AlarmRuleRow> {
  const { rows } = await pool.query<AlarmRuleRow>(
    `INSERT INTO tmi.alarm_rule AS r (rule_id, name, description, target_id, kind, severity, type, spec, enabled)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${ruleColumns}`,
    ruleParams(ruleId, rule),
  );
  return rows[0]!;
}

export async function getAlarmRule(pool: Pool, ruleId: string): Promise<AlarmRuleRow | undefined> {
  const { rows } = await pool.query<AlarmRuleRow>(
    `SELECT ${ruleColumns} FROM tmi.alarm_rule r WHERE r.rule_id = $1 AND r.deleted_at IS NULL`,
    [ruleId],
  );
  return rows[0];
}

export interface AlarmRuleListQuery {
  readonly kind?: string;
  readonly targetId?: string;
  readonly type?: string;
  readonly enabled?: boolean;
  readonly after?: string;
  readonly limit: number;
}

/** Keyset pagination in rule_id order (rule ids are UUIDv7: creation order). */
export async function listAlarmRules(pool: Pool, q: AlarmRuleListQuery): Promise<AlarmRuleRow[]> {
  const { rows } = await pool.query<AlarmRuleRow>(
    `SELECT ${ruleColumns} FROM tmi.alarm_rule r
     WHERE r.deleted_at IS NULL
       AND ($1::text IS NULL OR r.kind = $1) AND ($2::uuid IS NULL OR r.target_id = $2)
       AND ($3::text IS NULL OR r.type = $3) AND ($4::boolean IS NULL OR r.enabled = $4)
       AND ($5::uuid IS NULL OR r.rule_id > $5)
     ORDER BY r.rule_id LIMIT $6`,
    [q.kind ?? null, q.targetId ?? null, q.type ?? null, q.enabled ?? null, q.after ?? null, q.limit],
  );
  return rows;
}

/** Rules the alarm stage evaluates, share-locked for its transaction (a rule change waits for the batch). */
export async function lockLiveRules(client: PoolClient): Promise<AlarmRuleRow[]> {
  const { rows } = await client.query<AlarmRuleRow>(
    `SELECT ${ruleColumns} FROM tmi.alarm_rule r WHERE r.deleted_at IS NULL AND r.enabled
     ORDER BY r.rule_id FOR SHARE`,
  );
  return rows;
}

/** Versions of the live rules, share-locked: cheap, to see whether a cached set of rules is still current. */
export async function lockLiveRuleVersions(client: PoolClient): Promise<Map<string, number>> {
  const { rows } = await client.query<{ rule_id: string; version: number }>(
    `SELECT rule_id, version FROM tmi.alarm_rule WHERE deleted_at IS NULL AND enabled ORDER BY rule_id FOR SHARE`,
  );
  return new Map(rows.map((r) => [r.rule_id, r.version]));
}

/**
 * Replaces a rule's definition: a new version. Its open alarms are cleared (reason `rule_changed`) and its
 * evaluation state is forgotten, so the new definition starts from scratch.
 */
export async function replaceAlarmRule(
  client: PoolClient,
  ruleId: string,
  rule: NewAlarmRule,
): Promise<AlarmRuleRow | undefined> {
  const { rows } = await client.query<AlarmRuleRow>(
    `UPDATE tmi.alarm_rule AS r SET name = $2, description = $3, target_id = $4, kind = $5, severity = $6,
       type = $7, spec = $8, enabled = $9, version = r.version + 1, updated_at = now()
     WHERE r.rule_id = $1 AND r.deleted_at IS NULL RETURNING ${ruleColumns}`,
    ruleParams(ruleId, rule),
  );
  if (rows.length === 0) return undefined;
  await resetRule(client, ruleId, 'rule_changed');
  return rows[0];
}

export interface AlarmRulePatch {
  readonly name?: string;
  readonly description?: string;
  readonly severity?: string;
  readonly enabled?: boolean;
}

/** Name, description, severity (of alarms raised from now on) and enabled; disabling clears open alarms. */
export async function patchAlarmRule(
  client: PoolClient,
  ruleId: string,
  patch: AlarmRulePatch,
): Promise<AlarmRuleRow | undefined> {
  const before = await client.query<{ enabled: boolean }>(
    'SELECT enabled FROM tmi.alarm_rule WHERE rule_id = $1 AND deleted_at IS NULL FOR UPDATE',
    [ruleId],
  );
  if (before.rows.length === 0) return undefined;
  const { rows } = await client.query<AlarmRuleRow>(
    `UPDATE tmi.alarm_rule AS r SET name = COALESCE($2, r.name), description = COALESCE($3, r.description),
       severity = COALESCE($4, r.severity), enabled = COALESCE($5, r.enabled), updated_at = now()
     WHERE r.rule_id = $1 RETURNING ${ruleColumns}`,
    [ruleId, patch.name ?? null, patch.description ?? null, patch.severity ?? null, patch.enabled ?? null],
  );
  const rule = rows[0]!;
  if (before.rows[0]!.enabled && !rule.enabled) await resetRule(client, ruleId, 'rule_disabled');
  return rule;
}

/** Soft delete (its alarms keep referring to it); open alarms are cleared with reason `rule_deleted`. */
export async function deleteAlarmRule(client: PoolClient, ruleId: string): Promise<boolean> {
  const res = await client.query(
    'UPDATE tmi.alarm_rule SET deleted_at = now(), updated_at = now() WHERE rule_id = $1 AND deleted_at IS NULL',
    [ruleId],
  );
  if ((res.rowCount ?? 0) === 0) return false;
  await resetRule(client, ruleId, 'rule_deleted');
  return true;
}

async function resetRule(client: PoolClient, ruleId: string, reason: string): Promise<void> {
  await client.query('SELECT 1 FROM tmi.alarm_state WHERE rule_id = $1 ORDER BY target_id FOR UPDATE', [
    ruleId,
  ]);
  await closeOpenAlarms(client, { ruleId }, reason);
  await client.query('DELETE FROM tmi.alarm_state WHERE rule_id = $1', [ruleId]);
}

/** Clears a target's open alarms and forgets its evaluation state (the target is being deleted). */
export async function forgetTargetAlarms(client: PoolClient, targetId: string): Promise<void> {
  await client.query('SELECT 1 FROM tmi.alarm_state WHERE target_id = $1 ORDER BY rule_id FOR UPDATE', [
    targetId,
  ]);
  await closeOpenAlarms(client, { targetId }, 'target_deleted');
  await client.query('DELETE FROM tmi.alarm_state WHERE target_id = $1', [targetId]);
}

// ── alarms ──────────────────────────────────────────────────────────────────

export type AlarmStateName = 'active' | 'acknowledged' | 'cleared';
export const alarmStateNames: readonly AlarmStateName[] = ['active', 'acknowledged', 'cleared'];

export interface AlarmRow {
  readonly alarm_id: string;
  readonly rule_id: string;
  readonly rule_name: string;
  readonly rule_type: string;
  readonly rule_version: number;
  readonly target_id: string;
  readonly kind: string | null;
  readonly severity: string;
  readonly state: AlarmStateName;
  readonly raised_at: string;
  readonly reason: string;
  readonly trigger: { event_id?: string | null; values?: Record<string, unknown> };
  readonly acknowledged_at: string | null;
  readonly acknowledged_by: string | null;
  readonly cleared_at: string | null;
  readonly cleared_by: string | null;
  readonly clear_reason: string | null;
  readonly updated_at: string;
}

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
async function closeOpenAlarms(
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

// ── transitions: history + outbox ───────────────────────────────────────────

export type TransitionName = 'raised' | 'acknowledged' | 'cleared';

/** One transition of one alarm, as recorded in alarm_event and published on <ns>.alarm.<target_id>. */
export interface AlarmTransitionRecord {
  readonly alarm_id: string;
  readonly transition: TransitionName;
  /** The alarm's state after the transition. */
  readonly state: AlarmStateName;
  /** ISO-8601, µs. */
  readonly at: string;
  readonly by: string;
  readonly reason: string;
  readonly rule_id: string;
  readonly rule_name: string;
  readonly rule_type: string;
  readonly rule_version: number;
  readonly severity: string;
  readonly target_id: string;
  readonly kind: string | null;
  readonly event_id: string | null;
  /** The rule's fields as known at the transition (the raise values for acknowledgements). */
  readonly values: Record<string, unknown>;
}

function transitionOf(
  a: AlarmRow,
  t: { transition: TransitionName; state: AlarmStateName; at: string; by: string; reason: string },
): AlarmTransitionRecord {
  return {
    alarm_id: a.alarm_id,
    ...t,
    rule_id: a.rule_id,
    rule_name: a.rule_name,
    rule_type: a.rule_type,
    rule_version: a.rule_version,
    severity: a.severity,
    target_id: a.target_id,
    kind: a.kind,
    event_id: null,
    values: a.trigger.values ?? {},
  };
}

/** The Nats-Msg-Id of a transition: each transition happens at most once per alarm. */
export function transitionMsgId(alarmId: string, transition: TransitionName): string {
  return `${alarmId}:${transition}`;
}

/** The JSON body published on <ns>.alarm.<target_id>. */
export function transitionMessage(t: AlarmTransitionRecord): Record<string, unknown> {
  return {
    transition_id: transitionMsgId(t.alarm_id, t.transition),
    alarm_id: t.alarm_id,
    transition: t.transition,
    state: t.state,
    at: t.at,
    by: t.by,
    reason: t.reason,
    rule_id: t.rule_id,
    rule_name: t.rule_name,
    rule_type: t.rule_type,
    severity: t.severity,
    target_id: t.target_id,
    kind: t.kind,
    event_id: t.event_id,
    fields: Object.keys(t.values),
    values: t.values,
  };
}

/** History rows (idempotent on (alarm_id, transition)) and outbox rows of transitions, in one round trip each. */
export async function recordTransitions(
  client: PoolClient,
  ts: readonly AlarmTransitionRecord[],
): Promise<void> {
  if (ts.length === 0) return;
  await client.query(
    // recorded_at is the insert's own clock, not the transaction's start: a deadline claimed by the timer is
    // never recorded as handled before it was due.
    `INSERT INTO tmi.alarm_event (alarm_id, transition, at, by, reason, detail, recorded_at)
     SELECT u.*, clock_timestamp()
     FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[]) AS u
     ON CONFLICT DO NOTHING`,
    [
      ts.map((t) => t.alarm_id),
      ts.map((t) => t.transition),
      ts.map((t) => t.at),
      ts.map((t) => t.by),
      ts.map((t) => t.reason),
      ts.map((t) => JSON.stringify({ event_id: t.event_id, values: t.values })),
    ],
  );
  await client.query(
    `INSERT INTO tmi.alarm_outbox (msg_id, target_id, body)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::jsonb[])`,
    [
      ts.map((t) => transitionMsgId(t.alarm_id, t.transition)),
      ts.map((t) => t.target_id),
      ts.map((t) => JSON.stringify(transitionMessage(t))),
    ],
  );
}

// ── the alarm stage's writes ────────────────────────────────────────────────

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

/** An alarm the stage raised in this batch, with its state at the end of the batch. */
export interface NewAlarmRow {
  readonly alarm_id: string;
  readonly rule_id: string;
  readonly rule_version: number;
  readonly target_id: string;
  readonly severity: string;
  readonly raised_at: string;
  readonly reason: string;
  readonly trigger: Record<string, unknown>;
  /** Set when the alarm was also cleared within the batch. */
  readonly cleared_at: string | null;
  readonly clear_reason: string | null;
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

// ── outbox ──────────────────────────────────────────────────────────────────

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

// ── backtest input ──────────────────────────────────────────────────────────

export interface HistoryRow {
  readonly target_id: string;
  readonly kind: string;
  /** Observation time, µs since the epoch. */
  readonly ts_us: number;
  readonly event_id: string;
  readonly payload: Record<string, unknown>;
}

export interface HistoryQuery {
  readonly fromIso: string;
  readonly toIso: string;
  readonly targetId: string | null;
  readonly kind: string | null;
  /** Only events holding at least one of these top-level fields. */
  readonly topFields: readonly string[];
  readonly after?: { readonly tsUs: number; readonly eventId: string };
  readonly limit: number;
}

/** One page of stored observations in [from, to), in (observation time, event id) order. */
export async function readHistoryPage(pool: Pool, q: HistoryQuery): Promise<HistoryRow[]> {
  const { rows } = await pool.query<HistoryRow>(
    `SELECT o.target_id, t.kind, (extract(epoch FROM o.ts) * 1000000)::bigint AS ts_us, o.event_id, o.payload
     FROM tmi.ts_obs o JOIN tmi.target t ON t.target_id = o.target_id
     WHERE o.ts >= $1::timestamptz AND o.ts < $2::timestamptz
       AND ($3::uuid IS NULL OR o.target_id = $3) AND ($4::text IS NULL OR t.kind = $4)
       AND o.payload ?| $5::text[]
       AND ($6::bigint IS NULL OR (o.ts, o.event_id) > (to_timestamp(0) + $6::bigint * interval '1 microsecond', $7::uuid))
     ORDER BY o.ts, o.event_id LIMIT $8`,
    [
      q.fromIso,
      q.toIso,
      q.targetId,
      q.kind,
      q.topFields,
      q.after?.tsUs ?? null,
      q.after?.eventId ?? null,
      q.limit,
    ],
  );
  return rows;
}

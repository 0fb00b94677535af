// SPDX-License-Identifier: MIT
// Alarm rules: their CRUD, and the live set the alarm stage evaluates. Changing, disabling or deleting a rule
// clears its open alarms and forgets its evaluation state in the same transaction.
// Lock order everywhere: rule rows, then state rows, then alarm rows (so writers don't deadlock).
import type { Pool, PoolClient } from '../../db/index.js';
import { isoOf } from '../sql.js';
import { closeOpenAlarms } from './alarms.js';

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

/** A stored rule: its definition, plus its id, version and times. */
export interface AlarmRuleRow extends NewAlarmRule {
  readonly rule_id: string;
  readonly version: number;
  readonly created_at: string;
  readonly updated_at: string;
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

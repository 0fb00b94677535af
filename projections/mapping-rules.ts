// SPDX-License-Identifier: MIT
import type { Pool } from '../db/index.js';

/** A stored rule: what was created, plus its times. */
export interface MappingRuleRow extends NewMappingRule {
  readonly created_at: string;
  readonly deleted_at: string | null;
  /** Microseconds since the epoch, for the normalize stage's "in force at received_at" test. */
  readonly created_us: number;
  readonly deleted_us: number | null;
}

const columns = `rule_id, kind, target_id, field, action, to_field, scale, "offset", from_unit, to_unit, position,
  created_at, deleted_at,
  (extract(epoch FROM created_at) * 1000000)::bigint AS created_us,
  (extract(epoch FROM deleted_at) * 1000000)::bigint AS deleted_us`;

/** Every rule, deleted ones included (they still apply to events received while they were in force). */
export async function loadAllMappingRules(pool: Pool): Promise<MappingRuleRow[]> {
  const { rows } = await pool.query<MappingRuleRow>(`SELECT ${columns} FROM tmi.mapping_rule`);
  return rows;
}

export async function listMappingRules(pool: Pool, includeDeleted = false): Promise<MappingRuleRow[]> {
  const { rows } = await pool.query<MappingRuleRow>(
    `SELECT ${columns} FROM tmi.mapping_rule ${includeDeleted ? '' : 'WHERE deleted_at IS NULL'} ORDER BY position, created_at`,
  );
  return rows;
}

export interface NewMappingRule {
  readonly rule_id: string;
  readonly kind: string | null;
  readonly target_id: string | null;
  readonly field: string;
  readonly action: 'rename' | 'convert' | 'drop';
  readonly to_field: string | null;
  readonly scale: number | null;
  readonly offset: number | null;
  readonly from_unit: string | null;
  readonly to_unit: string | null;
  readonly position: number;
}

export async function insertMappingRule(pool: Pool, rule: NewMappingRule): Promise<MappingRuleRow> {
  const { rows } = await pool.query<MappingRuleRow>(
    `INSERT INTO tmi.mapping_rule (rule_id, kind, target_id, field, action, to_field, scale, "offset", from_unit, to_unit, position)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${columns}`,
    [
      rule.rule_id,
      rule.kind,
      rule.target_id,
      rule.field,
      rule.action,
      rule.to_field,
      rule.scale,
      rule.offset,
      rule.from_unit,
      rule.to_unit,
      rule.position,
    ],
  );
  return rows[0]!;
}

/** Soft delete: the rule stops applying to events received from now on. */
export async function deleteMappingRule(pool: Pool, ruleId: string): Promise<boolean> {
  const res = await pool.query(
    'UPDATE tmi.mapping_rule SET deleted_at = clock_timestamp() WHERE rule_id = $1 AND deleted_at IS NULL',
    [ruleId],
  );
  return (res.rowCount ?? 0) > 0;
}

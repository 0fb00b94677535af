// SPDX-License-Identifier: MIT
import type { Pool, PoolClient } from '../db/index.js';

export type MappingRuleAction = 'rename' | 'convert' | 'drop' | 'map';
/** Who made a rule: a user (POST /v1/mapping-rules), the model (auto), a person approving a suggestion. */
export type MappingRuleSource = 'user' | 'model' | 'person';

/** A stored rule: what was created, who made it, plus its times. */
export interface MappingRuleRow extends NewMappingRule {
  readonly source: MappingRuleSource;
  readonly model_version: string | null;
  readonly confidence: number | null;
  readonly suggestion_id: string | null;
  readonly created_at: string;
  readonly deleted_at: string | null;
  /** Microseconds since the epoch, for the normalize stage's "in force at received_at" test. */
  readonly created_us: number;
  readonly deleted_us: number | null;
}

const columns = `rule_id, kind, target_id, field, action, to_field, scale, "offset", from_unit, to_unit, position,
  source, model_version, confidence, suggestion_id, created_at, deleted_at,
  (extract(epoch FROM created_at) * 1000000)::bigint AS created_us,
  (extract(epoch FROM deleted_at) * 1000000)::bigint AS deleted_us`;

/** Every rule, deleted ones included (they still apply to events received while they were in force). */
export async function loadAllMappingRules(pool: Pool): Promise<MappingRuleRow[]> {
  const { rows } = await pool.query<MappingRuleRow>(`SELECT ${columns} FROM tmi.mapping_rule`);
  return rows;
}

/**
 * The count of changes to tmi.mapping_rule so far (migration 014: a trigger bumps it in the transaction of
 * every insert, update or delete). Equal counts read at two moments mean equal rules at both.
 */
export async function mappingRulesVersion(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ version: string }>(
    'SELECT version::text AS version FROM tmi.mapping_rule_version',
  );
  return rows[0]?.version ?? '';
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
  readonly action: MappingRuleAction;
  readonly to_field: string | null;
  readonly scale: number | null;
  readonly offset: number | null;
  readonly from_unit: string | null;
  readonly to_unit: string | null;
  readonly position: number;
}

/** Who made a rule and, for the model's, with what; `createdAtMicros` backdates a model's rule to the event that triggered it. */
export interface RuleOrigin {
  readonly source: MappingRuleSource;
  readonly modelVersion?: string;
  readonly confidence?: number;
  readonly suggestionId?: string;
  readonly createdAtMicros?: number;
}

export async function insertMappingRule(
  db: Pool | PoolClient,
  rule: NewMappingRule,
  origin: RuleOrigin = { source: 'user' },
): Promise<MappingRuleRow> {
  const { rows } = await db.query<MappingRuleRow>(
    `INSERT INTO tmi.mapping_rule (rule_id, kind, target_id, field, action, to_field, scale, "offset", from_unit, to_unit, position,
       source, model_version, confidence, suggestion_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
       coalesce(timestamptz 'epoch' + $16::bigint * interval '1 microsecond', clock_timestamp())) RETURNING ${columns}`,
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
      origin.source,
      origin.modelVersion ?? null,
      origin.confidence ?? null,
      origin.suggestionId ?? null,
      origin.createdAtMicros ?? null,
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

// SPDX-License-Identifier: MIT
// The normalizer's tables: the vocabulary, per-kind model roles, the decisions made the first time a
// (kind, field) was seen, and the suggestions waiting for a person.
import type { Pool, PoolClient } from '../db/index.js';
import { isoOf } from './sql.js';

type Db = Pool | PoolClient;

export interface VocabularyRow {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly builtin: boolean;
}

export async function listVocabulary(db: Db): Promise<VocabularyRow[]> {
  const { rows } = await db.query<VocabularyRow>(
    'SELECT name, unit, description, builtin FROM tmi.vocabulary ORDER BY name',
  );
  return rows;
}

/** Adds an entry; false when the name is taken. */
export async function insertVocabulary(db: Db, entry: Omit<VocabularyRow, 'builtin'>): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO tmi.vocabulary (name, unit, description) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
    [entry.name, entry.unit, entry.description],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Deletes a user's entry: 'deleted', 'builtin' (refused) or 'missing'. */
export async function deleteVocabulary(db: Db, name: string): Promise<'deleted' | 'builtin' | 'missing'> {
  const { rows } = await db.query<{ builtin: boolean }>(
    `DELETE FROM tmi.vocabulary WHERE name = $1 AND NOT builtin RETURNING builtin`,
    [name],
  );
  if (rows.length > 0) return 'deleted';
  const left = await db.query('SELECT 1 FROM tmi.vocabulary WHERE name = $1', [name]);
  return (left.rowCount ?? 0) > 0 ? 'builtin' : 'missing';
}

export type ModelRoleName = 'auto' | 'suggest' | 'off';

export async function loadModelRoles(db: Db): Promise<Map<string, ModelRoleName>> {
  const { rows } = await db.query<{ kind: string; model_role: ModelRoleName }>(
    'SELECT kind, model_role FROM tmi.normalize_kind',
  );
  return new Map(rows.map((r) => [r.kind, r.model_role]));
}

export async function setModelRole(db: Db, kind: string, role: ModelRoleName): Promise<void> {
  await db.query(
    `INSERT INTO tmi.normalize_kind (kind, model_role) VALUES ($1, $2)
     ON CONFLICT (kind) DO UPDATE SET model_role = EXCLUDED.model_role, updated_at = clock_timestamp()`,
    [kind, role],
  );
}

export interface DecisionRow {
  readonly kind: string;
  readonly field: string;
  readonly decision: 'auto' | 'suggest' | 'keep' | 'rule';
  readonly canonical: string | null;
  readonly from_unit: string | null;
  readonly to_unit: string | null;
  readonly confidence: number | null;
  readonly model_version: string | null;
  readonly reason: string;
  readonly first_event_id: string;
  /** Microseconds since the epoch. */
  readonly first_received_us: number;
}

const decisionColumns = `kind, field, decision, canonical, from_unit, to_unit, confidence, model_version, reason,
  first_event_id, (extract(epoch FROM first_received_at) * 1000000)::bigint AS first_received_us`;

export async function loadDecisions(db: Db, kinds: readonly string[]): Promise<DecisionRow[]> {
  const { rows } = await db.query<DecisionRow>(
    `SELECT ${decisionColumns} FROM tmi.normalize_decision WHERE kind = ANY($1::text[])`,
    [kinds],
  );
  return rows.map((r) => ({ ...r, first_received_us: Number(r.first_received_us) }));
}

/** Records a decision unless one exists; returns the one in force (ours, or an earlier process's). */
export async function insertDecision(
  client: PoolClient,
  d: DecisionRow,
): Promise<{ row: DecisionRow; ours: boolean }> {
  const inserted = await client.query<DecisionRow>(
    `INSERT INTO tmi.normalize_decision (kind, field, decision, canonical, from_unit, to_unit, confidence, model_version,
       reason, first_event_id, first_received_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, timestamptz 'epoch' + $11::bigint * interval '1 microsecond')
     ON CONFLICT (kind, field) DO NOTHING RETURNING ${decisionColumns}`,
    [
      d.kind,
      d.field,
      d.decision,
      d.canonical,
      d.from_unit,
      d.to_unit,
      d.confidence,
      d.model_version,
      d.reason,
      d.first_event_id,
      d.first_received_us,
    ],
  );
  if (inserted.rows[0] !== undefined) return { row: d, ours: true };
  const existing = await client.query<DecisionRow>(
    `SELECT ${decisionColumns} FROM tmi.normalize_decision WHERE kind = $1 AND field = $2`,
    [d.kind, d.field],
  );
  const row = existing.rows[0]!;
  return { row: { ...row, first_received_us: Number(row.first_received_us) }, ours: false };
}

export type SuggestionStatus = 'pending' | 'approved' | 'rejected';

export interface SuggestionRow {
  readonly suggestion_id: string;
  readonly kind: string;
  readonly field: string;
  readonly cause: 'model' | 'clash';
  readonly canonical: string | null;
  readonly from_unit: string | null;
  readonly to_unit: string | null;
  readonly confidence: number | null;
  readonly model_version: string | null;
  readonly samples: unknown[];
  readonly reason: string;
  readonly status: SuggestionStatus;
  readonly rule_id: string | null;
  readonly created_at: string;
  readonly decided_at: string | null;
}

export type NewSuggestion = Omit<SuggestionRow, 'status' | 'rule_id' | 'created_at' | 'decided_at'>;

const suggestionColumns = `suggestion_id, kind, field, cause, canonical, from_unit, to_unit, confidence, model_version,
  samples, reason, status, rule_id, ${isoOf('created_at')} AS created_at, ${isoOf('decided_at')} AS decided_at`;

/** Records a suggestion once per (kind, field, cause): a rejected one never comes back. */
export async function insertSuggestion(db: Db, s: NewSuggestion): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO tmi.mapping_suggestion (suggestion_id, kind, field, cause, canonical, from_unit, to_unit, confidence,
       model_version, samples, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (kind, field, cause) DO NOTHING`,
    [
      s.suggestion_id,
      s.kind,
      s.field,
      s.cause,
      s.canonical,
      s.from_unit,
      s.to_unit,
      s.confidence,
      s.model_version,
      JSON.stringify(s.samples),
      s.reason,
    ],
  );
  return (res.rowCount ?? 0) > 0;
}

export interface SuggestionQuery {
  readonly status?: SuggestionStatus;
  readonly kind?: string;
  /** suggestion_id to continue after (ids are UUIDv7: time-ordered). */
  readonly after?: string;
  readonly limit: number;
}

export async function listSuggestions(db: Db, q: SuggestionQuery): Promise<SuggestionRow[]> {
  const { rows } = await db.query<SuggestionRow>(
    `SELECT ${suggestionColumns} FROM tmi.mapping_suggestion
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR kind = $2)
        AND ($3::uuid IS NULL OR suggestion_id > $3)
      ORDER BY suggestion_id LIMIT $4`,
    [q.status ?? null, q.kind ?? null, q.after ?? null, q.limit],
  );
  return rows;
}

export async function getSuggestion(db: Db, id: string, lock = false): Promise<SuggestionRow | undefined> {
  const { rows } = await db.query<SuggestionRow>(
    `SELECT ${suggestionColumns} FROM tmi.mapping_suggestion WHERE suggestion_id = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0];
}

export async function closeSuggestion(
  client: PoolClient,
  id: string,
  status: 'approved' | 'rejected',
  ruleId: string | null,
): Promise<void> {
  await client.query(
    `UPDATE tmi.mapping_suggestion SET status = $2, rule_id = $3, decided_at = clock_timestamp() WHERE suggestion_id = $1`,
    [id, status, ruleId],
  );
}

/** Active renames and maps: field (as a speaker wrote it) → the field it becomes, per kind (null: any kind). */
export interface AliasRow {
  readonly kind: string | null;
  readonly field: string;
  readonly to_field: string;
}

export async function loadAliases(db: Db): Promise<AliasRow[]> {
  const { rows } = await db.query<AliasRow>(
    `SELECT kind, field, to_field FROM tmi.mapping_rule
      WHERE deleted_at IS NULL AND action IN ('map', 'rename') AND target_id IS NULL
      ORDER BY position, created_at`,
  );
  return rows;
}

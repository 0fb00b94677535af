// SPDX-License-Identifier: MIT
// Read models of the per-kind contract: a kind's targets with each state field's writer schema (the
// schema_id of the event that set it), one target's observations with their writer schema, the
// lifecycle of a kind's versions, the versions clients pin, and what a field change would touch.
import type { Pool } from '../db/index.js';
import { isoOf } from './sql.js';

export interface KindStateRow {
  readonly target_id: string;
  readonly name: string;
  readonly field: string | null;
  readonly value: unknown;
  readonly ts: string | null;
  /** Writer schema of the event that set the field; null when that observation is gone. */
  readonly schema_id: number | null;
}

/** Targets of `kind` in target_id order after `after` (at most `limit`), one row per state field. */
export async function kindStateRows(
  pool: Pool,
  q: { kind: string; targetId?: string; after?: string; limit: number },
): Promise<KindStateRow[]> {
  const { rows } = await pool.query<KindStateRow>(
    `SELECT t.target_id, t.name, s.field, s.value, ${isoOf('s.ts')} AS ts, o.schema_id
       FROM (SELECT target_id, name FROM tmi.target
              WHERE kind = $1 AND ($2::uuid IS NULL OR target_id = $2) AND ($3::uuid IS NULL OR target_id > $3)
              ORDER BY target_id LIMIT $4) t
       LEFT JOIN tmi.target_state s ON s.target_id = t.target_id
       LEFT JOIN tmi.ts_obs o ON o.target_id = s.target_id AND o.ts = s.ts AND o.event_id = s.event_id
      ORDER BY t.target_id, s.field`,
    [q.kind, q.targetId ?? null, q.after ?? null, q.limit],
  );
  return rows;
}

export interface KindObsRow {
  readonly ts: string;
  readonly event_id: string;
  readonly schema_id: number;
  readonly payload: Record<string, unknown>;
}

/** One target's observations in [from, to), keyset-paged by (ts, event_id); `limit + 1` rows at most. */
export async function kindObsRows(
  pool: Pool,
  q: {
    targetId: string;
    fromIso?: string;
    toIso?: string;
    after?: { ts: string; eventId: string };
    order: 'asc' | 'desc';
    limit: number;
  },
): Promise<KindObsRow[]> {
  const cmp = q.order === 'asc' ? '>' : '<';
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  const { rows } = await pool.query<KindObsRow>(
    `SELECT ${isoOf('ts')} AS ts, event_id, schema_id, payload FROM tmi.ts_obs
      WHERE target_id = $1 AND ($2::timestamptz IS NULL OR ts >= $2) AND ($3::timestamptz IS NULL OR ts < $3)
        AND ($4::timestamptz IS NULL OR (ts, event_id) ${cmp} ($4::timestamptz, $5::uuid))
      ORDER BY ts ${dir}, event_id ${dir} LIMIT $6`,
    [
      q.targetId,
      q.fromIso ?? null,
      q.toIso ?? null,
      q.after?.ts ?? null,
      q.after?.eventId ?? null,
      q.limit + 1,
    ],
  );
  return rows;
}

export type VersionStatusName = 'active' | 'deprecated' | 'retired';

export interface VersionStatus {
  readonly version: number;
  readonly status: VersionStatusName;
  readonly deprecated_at: string | null;
  readonly sunset_at: string | null;
}

/** The lifecycle rows of a kind's versions (versions without a row are active), by version. */
export async function versionStatuses(pool: Pool, kind?: string): Promise<Map<string, VersionStatus[]>> {
  const { rows } = await pool.query<VersionStatus & { kind: string }>(
    `SELECT kind, version, status, ${isoOf('deprecated_at')} AS deprecated_at, ${isoOf('sunset_at')} AS sunset_at
       FROM tmi.kind_version_status WHERE $1::text IS NULL OR kind = $1 ORDER BY kind, version`,
    [kind ?? null],
  );
  const out = new Map<string, VersionStatus[]>();
  for (const { kind: k, ...status } of rows) out.set(k, [...(out.get(k) ?? []), status]);
  return out;
}

export async function setVersionStatus(
  pool: Pool,
  kind: string,
  version: number,
  status: VersionStatusName,
  sunsetIso: string | null,
): Promise<VersionStatus> {
  const { rows } = await pool.query<VersionStatus>(
    `INSERT INTO tmi.kind_version_status AS s (kind, version, status, deprecated_at, sunset_at)
     VALUES ($1, $2, $3, CASE WHEN $3 = 'active' THEN NULL ELSE now() END, $4)
     ON CONFLICT (kind, version) DO UPDATE
       SET status = excluded.status, sunset_at = excluded.sunset_at, updated_at = now(),
           deprecated_at = CASE WHEN excluded.status = 'active' THEN NULL
                                ELSE coalesce(s.deprecated_at, excluded.deprecated_at) END
     RETURNING version, status, ${isoOf('deprecated_at')} AS deprecated_at, ${isoOf('sunset_at')} AS sunset_at`,
    [kind, version, status, sunsetIso],
  );
  return rows[0]!;
}

/** Notes that a client read `kind` pinned to `version`. */
export async function notePinnedVersion(pool: Pool, kind: string, version: number): Promise<void> {
  await pool.query(
    `INSERT INTO tmi.kind_version_use (kind, version) VALUES ($1, $2)
     ON CONFLICT (kind, version) DO UPDATE SET last_used_at = now()`,
    [kind, version],
  );
}

/** Versions of `kind` that clients pinned within `withinDays` days, ascending. */
export async function pinnedVersions(pool: Pool, kind: string, withinDays: number): Promise<number[]> {
  const { rows } = await pool.query<{ version: number }>(
    `SELECT version FROM tmi.kind_version_use
      WHERE kind = $1 AND last_used_at > now() - $2 * interval '1 day' ORDER BY version`,
    [kind, withinDays],
  );
  return rows.map((r) => r.version);
}

/** Listeners with a subscription to `kind` (or to one of its targets) whose `fields` name one of `fields`. */
export async function listenersNaming(
  pool: Pool,
  kind: string,
  fields: readonly string[],
): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT DISTINCT l.name FROM tmi.subscription s
       JOIN tmi.listener l ON l.listener_id = s.listener_id
       LEFT JOIN tmi.target t ON t.target_id = s.target_id
      WHERE (s.kind = $1 OR t.kind = $1) AND s.fields && $2::text[]
      ORDER BY l.name`,
    [kind, fields],
  );
  return rows.map((r) => r.name);
}

/** Live alarm rules covering `kind` (its kind, one of its targets, or every target), with their spec. */
export async function alarmRulesOfKind(
  pool: Pool,
  kind: string,
): Promise<{ name: string; type: string; spec: unknown }[]> {
  const { rows } = await pool.query<{ name: string; type: string; spec: unknown }>(
    `SELECT r.name, r.type, r.spec FROM tmi.alarm_rule r
       LEFT JOIN tmi.target t ON t.target_id = r.target_id
      WHERE r.deleted_at IS NULL AND (r.kind = $1 OR t.kind = $1 OR (r.kind IS NULL AND r.target_id IS NULL))
      ORDER BY r.name`,
    [kind],
  );
  return rows;
}

/** The typed views of `kind` that exist in the `kinds` schema. */
export async function kindViews(pool: Pool, kind: string): Promise<string[]> {
  const { rows } = await pool.query<{ view: string }>(
    `SELECT format('kinds.%I', c.relname) AS view FROM pg_class c
      WHERE c.relnamespace = 'kinds'::regnamespace AND c.relkind = 'v'
        AND c.relname IN (tmi.short_ident($1 || '_obs'), tmi.short_ident($1 || '_state'))
      ORDER BY c.relname`,
    [kind],
  );
  return rows.map((r) => r.view);
}

/** A key that changes whenever a version registers or a version's lifecycle changes. */
export async function contractRevision(pool: Pool): Promise<string> {
  const { rows } = await pool.query<{ rev: string }>(
    `SELECT (SELECT coalesce(max(schema_id), 0) FROM tmi.model_versions)::text || ':' ||
            coalesce((SELECT extract(epoch FROM max(updated_at))::text FROM tmi.kind_version_status), '') || ':' ||
            (SELECT count(*) FROM tmi.kind_version_status)::text AS rev`,
  );
  return rows[0]!.rev;
}

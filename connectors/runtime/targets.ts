// SPDX-License-Identifier: MIT
// Which target an item is about: a fixed id, or a key read from the item matched against target names
// or a `meta` member — optionally creating the targets that are missing. A created target's id derives
// from the connector and the key, so a crash and retry creates it once, never twice.
import type { Pool } from '../../db/index.js';
import { uuidFromName } from '../../schemas/index.js';

/** `{id}` or `{by: "name" | "meta.<key>", create_kind?}`; where the key is read is the source's business. */
export type TargetRule =
  | { readonly id: string }
  | { readonly by: 'name' | `meta.${string}`; readonly createKind?: string };

/** Kind names as the targets API accepts them. */
export const targetKindRegex = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
/** Longest key an item may carry (a target name). */
export const targetKeyLengthMax = 200;

export interface ResolvedTargets {
  /** key → target id, for the keys that matched (or were created). */
  readonly ids: ReadonlyMap<string, string>;
  /** key → why it has no target (unknown, ambiguous). */
  readonly misses: ReadonlyMap<string, { code: string; reason: string }>;
  readonly created: number;
}

export async function resolveTargets(
  pool: Pool,
  connectorId: string,
  rule: TargetRule,
  keys: readonly string[],
): Promise<ResolvedTargets> {
  if ('id' in rule) return { ids: new Map(keys.map((k) => [k, rule.id])), misses: new Map(), created: 0 };
  const wanted = [...new Set(keys)];
  const metaKey = rule.by === 'name' ? null : rule.by.slice('meta.'.length);
  const found = await lookup(pool, metaKey, rule.createKind, wanted);
  let created = 0;
  const missing = wanted.filter((k) => !found.has(k));
  if (rule.createKind !== undefined && missing.length > 0) {
    const rows = missing.map((key) => ({
      target_id: uuidFromName(`connector-target\0${connectorId}\0${key}`),
      name: key,
      kind: rule.createKind!,
      meta: metaKey === null ? {} : { [metaKey]: key },
    }));
    const res = await pool.query(
      `INSERT INTO tmi.target (target_id, name, kind, meta)
       SELECT r.target_id, r.name, r.kind, r.meta
       FROM json_to_recordset($1::json) AS r(target_id uuid, name text, kind text, meta jsonb)
       ON CONFLICT (target_id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
    created = res.rowCount ?? 0;
    for (const r of rows) found.set(r.name, [r.target_id]);
  }
  const ids = new Map<string, string>();
  const misses = new Map<string, { code: string; reason: string }>();
  for (const key of wanted) {
    const hits = found.get(key) ?? [];
    const what = metaKey === null ? `name '${key}'` : `meta.${metaKey} = '${key}'`;
    if (hits.length === 1) ids.set(key, hits[0]!);
    else if (hits.length === 0)
      misses.set(key, { code: 'TARGET_NOT_FOUND', reason: `no target with ${what}` });
    else misses.set(key, { code: 'TARGET_AMBIGUOUS', reason: `${hits.length} targets have ${what}` });
  }
  return { ids, misses, created };
}

async function lookup(
  pool: Pool,
  metaKey: string | null,
  kind: string | undefined,
  keys: readonly string[],
): Promise<Map<string, string[]>> {
  const column = metaKey === null ? 'name' : 'meta ->> $3';
  const { rows } = await pool.query<{ key: string; target_id: string }>(
    `SELECT ${column} AS key, target_id FROM tmi.target
     WHERE ${column} = ANY($1::text[]) AND ($2::text IS NULL OR kind = $2)
     ORDER BY target_id`,
    metaKey === null ? [keys, kind ?? null] : [keys, kind ?? null, metaKey],
  );
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.key, [...(out.get(r.key) ?? []), r.target_id]);
  return out;
}

/** An item's key as text: strings and finite numbers; anything else is no key. */
export function keyText(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0 && value.length <= targetKeyLengthMax) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

// SPDX-License-Identifier: MIT
// API keys: SQL of create / read / list / revoke. Only the SHA-256 of a key's secret is stored.
import { type Pool, withTransaction } from '../db/index.js';
import { isoOf } from './sql.js';

export type KeyScope = 'admin' | 'speaker' | 'listener';
export const keyScopes: readonly KeyScope[] = ['admin', 'speaker', 'listener'];

/** A stored key: what was created, plus its listener's name and its times. */
export interface ApiKeyRow extends NewApiKey {
  /** The listener's name (listener keys). */
  readonly listener: string | null;
  readonly created_at: string;
  readonly revoked_at: string | null;
}

const columns = `k.key_id, k.name, k.scope, k.secret_sha256, k.listener_id, l.name AS listener,
  k.grant_targets::text[] AS grant_targets, k.grant_kinds, ${isoOf('k.created_at')} AS created_at,
  ${isoOf('k.expires_at')} AS expires_at, ${isoOf('k.revoked_at')} AS revoked_at`;
const from = 'tmi.api_key k LEFT JOIN tmi.listener l USING (listener_id)';

export interface NewApiKey {
  readonly key_id: string;
  readonly name: string;
  readonly scope: KeyScope;
  readonly secret_sha256: string;
  readonly listener_id: string | null;
  readonly grant_targets: readonly string[];
  readonly grant_kinds: readonly string[];
  readonly expires_at: string | null;
}

export async function insertApiKey(pool: Pool, k: NewApiKey): Promise<ApiKeyRow> {
  await pool.query(
    `INSERT INTO tmi.api_key (key_id, name, scope, secret_sha256, listener_id, grant_targets, grant_kinds, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6::uuid[], $7::text[], $8)`,
    [k.key_id, k.name, k.scope, k.secret_sha256, k.listener_id, k.grant_targets, k.grant_kinds, k.expires_at],
  );
  return (await getApiKey(pool, k.key_id))!;
}

export async function getApiKey(pool: Pool, keyId: string): Promise<ApiKeyRow | undefined> {
  const { rows } = await pool.query<ApiKeyRow>(`SELECT ${columns} FROM ${from} WHERE k.key_id = $1`, [keyId]);
  return rows[0];
}

export async function listApiKeys(
  pool: Pool,
  q: { after?: string; limit: number; includeRevoked: boolean },
): Promise<ApiKeyRow[]> {
  const { rows } = await pool.query<ApiKeyRow>(
    `SELECT ${columns} FROM ${from}
     WHERE ($1::uuid IS NULL OR k.key_id > $1) AND ($2 OR k.revoked_at IS NULL)
     ORDER BY k.key_id LIMIT $3`,
    [q.after ?? null, q.includeRevoked, q.limit],
  );
  return rows;
}

export type RevokeOutcome = 'revoked' | 'not_found' | 'last_admin';

/**
 * Revokes a key (kept for the audit trail): `not_found` when it does not exist or was revoked before;
 * `last_admin` (nothing changes) when it is the last admin key still in force — the last way in. Every
 * admin key in force is locked first, so two revocations at once cannot each leave the other as the last.
 */
export async function revokeApiKey(pool: Pool, keyId: string): Promise<RevokeOutcome> {
  return withTransaction(pool, async (client) => {
    const { rows: admins } = await client.query<{ key_id: string }>(
      `SELECT key_id FROM tmi.api_key
       WHERE scope = 'admin' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
       ORDER BY key_id FOR UPDATE`,
    );
    if (admins.length === 1 && admins[0]!.key_id === keyId) return 'last_admin';
    const res = await client.query(
      'UPDATE tmi.api_key SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL',
      [keyId],
    );
    return (res.rowCount ?? 0) > 0 ? 'revoked' : 'not_found';
  });
}

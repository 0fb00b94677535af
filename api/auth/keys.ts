// SPDX-License-Identifier: MIT
// Creating API keys, and the admin key `tmictl up` makes on first start: kept in <home>/admin.key
// (mode 0600) for the CLI, re-made if the file is missing or its key no longer works.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from '../../db/index.js';
import { type ApiKeyRow, getApiKey, insertApiKey, type KeyScope } from '../../projections/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { keyIsActive } from './access.js';
import { newApiKeySecret, parseApiKey, secretMatches } from './credentials.js';

export interface KeySpec {
  readonly name: string;
  readonly scope: KeyScope;
  readonly listenerId: string | null;
  readonly grantTargets: readonly string[];
  readonly grantKinds: readonly string[];
  readonly expiresAt: string | null;
}

/** Creates a key; the returned token is the only time its secret exists outside the caller. */
export async function createApiKey(pool: Pool, spec: KeySpec): Promise<{ row: ApiKeyRow; token: string }> {
  const keyId = uuidv7();
  const { token, secretSha256 } = newApiKeySecret(keyId);
  const row = await insertApiKey(pool, {
    key_id: keyId,
    name: spec.name,
    scope: spec.scope,
    secret_sha256: secretSha256,
    listener_id: spec.listenerId,
    grant_targets: spec.grantTargets,
    grant_kinds: spec.grantKinds,
    expires_at: spec.expiresAt,
  });
  return { row, token };
}

export function adminKeyPath(home: string): string {
  return path.join(home, 'admin.key');
}

/** The admin key stored under this home, if there is one. */
export function readAdminKey(home: string): string | undefined {
  const file = adminKeyPath(home);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

/** Makes sure <home>/admin.key holds a working admin key; creates one (and the file) if not. */
export async function ensureAdminKey(
  pool: Pool,
  home: string,
): Promise<{ path: string; keyId: string; created: boolean }> {
  const file = adminKeyPath(home);
  const existing = readAdminKey(home);
  const parsed = existing === undefined ? undefined : parseApiKey(existing);
  if (parsed) {
    const row = await getApiKey(pool, parsed.keyId);
    if (
      row?.scope === 'admin' &&
      secretMatches(parsed.secret, row.secret_sha256) &&
      keyIsActive(row, Date.now())
    ) {
      return { path: file, keyId: row.key_id, created: false };
    }
  }
  const { row, token } = await createApiKey(pool, {
    name: 'admin (made by tmictl up)',
    scope: 'admin',
    listenerId: null,
    grantTargets: [],
    grantKinds: [],
    expiresAt: null,
  });
  mkdirSync(home, { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { path: file, keyId: row.key_id, created: true };
}

// SPDX-License-Identifier: MIT
// Turns a presented credential (API key or token) into a Principal. Key rows are cached for
// `keyCacheTtlMs` (unknown key ids too, so random ids cannot make a query each); a revocation clears the
// cache of this process at once and of other processes through the `<ns>.sys.keys.changed` notice.
import type { Pool } from '../../db/index.js';
import { type ApiKeyRow, getApiKey } from '../../projections/index.js';
import { isUuid } from '../../schemas/index.js';
import { keyIsActive, type Principal, principalOf } from './access.js';
import { looksLikeJwt, parseApiKey, secretMatches } from './credentials.js';
import { TokenRejectedError, type TokenService } from './tokens.js';

export const keyCacheTtlMs = 10_000;
export const keyCacheEntriesMax = 50_000;

export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly code: 'UNAUTHENTICATED' | 'TOKEN_EXPIRED'; readonly detail: string };

const invalid: AuthResult = {
  ok: false,
  code: 'UNAUTHENTICATED',
  detail: 'the API key or token is not valid',
};

export class Authenticator {
  private readonly cache = new Map<string, { row: ApiKeyRow | undefined; expiresAtMs: number }>();

  constructor(
    private readonly pool: Pool,
    readonly tokens: TokenService,
  ) {}

  async authenticate(credential: string, nowMs = Date.now()): Promise<AuthResult> {
    const key = parseApiKey(credential);
    if (key) {
      const row = await this.keyRow(key.keyId, nowMs);
      if (!row || !secretMatches(key.secret, row.secret_sha256) || !keyIsActive(row, nowMs)) return invalid;
      return { ok: true, principal: principalOf(row, 'key') };
    }
    if (!looksLikeJwt(credential)) return invalid;
    try {
      const verified = await this.tokens.verify(credential);
      if (!isUuid(verified.keyId)) return invalid;
      const row = await this.keyRow(verified.keyId, nowMs);
      if (!row || !keyIsActive(row, nowMs)) return invalid;
      return { ok: true, principal: principalOf(row, 'token', verified.expiresAtMs) };
    } catch (err) {
      if (err instanceof TokenRejectedError && err.code === 'TOKEN_EXPIRED') {
        return { ok: false, code: 'TOKEN_EXPIRED', detail: 'the token has expired; mint a new one' };
      }
      if (err instanceof TokenRejectedError) return invalid;
      throw err;
    }
  }

  /** Forget cached keys (after a revocation here or elsewhere). */
  invalidate(): void {
    this.cache.clear();
  }

  private async keyRow(keyId: string, nowMs: number): Promise<ApiKeyRow | undefined> {
    const hit = this.cache.get(keyId);
    if (hit && hit.expiresAtMs > nowMs) return hit.row;
    const row = await getApiKey(this.pool, keyId);
    if (this.cache.size >= keyCacheEntriesMax) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(keyId, { row, expiresAtMs: nowMs + keyCacheTtlMs });
    return row;
  }
}

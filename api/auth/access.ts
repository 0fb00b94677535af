// SPDX-License-Identifier: MIT
// Who may do what, pure. Routes declare `config: { access }`; a route that declares nothing is
// admin-only, so a route added later is safe by default. Object-level checks (a speaker's grants, a
// listener's subscriptions) answer "not found" for what a caller may not see, exactly as for what does
// not exist, so ids cannot be probed.
import type { ApiKeyRow, KeyScope } from '../../projections/index.js';

/**
 * public: no credential. authenticated: any valid key or token. admin: admin keys. speaker: admin or
 * speaker keys (grants checked per target). listener: admin or listener keys (subscriptions checked).
 */
export type RouteAccess = 'public' | 'authenticated' | 'admin' | 'speaker' | 'listener';
export const routeAccesses: readonly RouteAccess[] = [
  'public',
  'authenticated',
  'admin',
  'speaker',
  'listener',
];

export interface Principal {
  readonly keyId: string;
  readonly keyName: string;
  readonly scope: KeyScope;
  /** The listener a listener key reads for. */
  readonly listenerId: string | null;
  readonly listenerName: string | null;
  /** Speaker keys: the targets and kinds they may write. */
  readonly grantTargets: ReadonlySet<string>;
  readonly grantKinds: ReadonlySet<string>;
  /** How the caller proved it: an API key, a token minted from one, or nothing (TMIDB_AUTH=off). */
  readonly via: 'key' | 'token' | 'anonymous';
  /** When the credential stops being valid (ms since the epoch); null: no expiry. */
  readonly expiresAtMs: number | null;
}

/** Every caller is this admin when TMIDB_AUTH=off. */
export const anonymousAdmin: Principal = {
  keyId: '00000000-0000-0000-0000-000000000000',
  keyName: 'anonymous',
  scope: 'admin',
  listenerId: null,
  listenerName: null,
  grantTargets: new Set(),
  grantKinds: new Set(),
  via: 'anonymous',
  expiresAtMs: null,
};

export function mayUseRoute(access: RouteAccess, scope: KeyScope): boolean {
  switch (access) {
    case 'public':
    case 'authenticated':
      return true;
    case 'admin':
      return scope === 'admin';
    case 'speaker':
      return scope === 'admin' || scope === 'speaker';
    case 'listener':
      return scope === 'admin' || scope === 'listener';
  }
}

/** May this caller write events about this target (of this kind)? */
export function mayWrite(p: Principal, targetId: string, kind: string): boolean {
  if (p.scope === 'admin') return true;
  if (p.scope !== 'speaker') return false;
  return p.grantTargets.has(targetId) || p.grantKinds.has(kind);
}

/** May this caller read this listener's endpoint and stream? */
export function mayReadListener(p: Principal, listenerId: string): boolean {
  return p.scope === 'admin' || (p.scope === 'listener' && p.listenerId === listenerId);
}

/** Is the key usable at this instant? */
export function keyIsActive(row: Pick<ApiKeyRow, 'revoked_at' | 'expires_at'>, nowMs: number): boolean {
  return row.revoked_at === null && (row.expires_at === null || Date.parse(row.expires_at) > nowMs);
}

export function principalOf(row: ApiKeyRow, via: 'key' | 'token', tokenExpiresAtMs?: number): Principal {
  const keyExpiry = row.expires_at === null ? null : Date.parse(row.expires_at);
  const expiries = [keyExpiry, tokenExpiresAtMs ?? null].filter((x): x is number => x !== null);
  return {
    keyId: row.key_id,
    keyName: row.name,
    scope: row.scope,
    listenerId: row.listener_id,
    listenerName: row.listener,
    grantTargets: new Set(row.grant_targets),
    grantKinds: new Set(row.grant_kinds),
    via,
    expiresAtMs: expiries.length === 0 ? null : Math.min(...expiries),
  };
}

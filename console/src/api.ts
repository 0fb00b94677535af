// SPDX-License-Identifier: MIT
// The console's HTTP client: the short-lived token from POST /v1/tokens rides in the Authorization
// header (never in a URL); it lives in sessionStorage (gone when the tab closes). The API key itself
// is used once, to mint the token, and is not kept anywhere.

export interface Session {
  readonly token: string;
  readonly expiresAt: string;
  readonly scope: 'admin' | 'speaker' | 'listener';
  readonly keyName: string;
  readonly listener: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const storageKey = 'tmidb.console.session';
let current: Session | null = readStored();
const watchers = new Set<(s: Session | null) => void>();

function readStored(): Session | null {
  try {
    const raw = sessionStorage.getItem(storageKey);
    const s = raw === null ? null : (JSON.parse(raw) as Session);
    return s !== null && Date.parse(s.expiresAt) > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function session(): Session | null {
  return current;
}

export function onSessionChange(fn: (s: Session | null) => void): () => void {
  watchers.add(fn);
  return () => watchers.delete(fn);
}

let expiryTimer: ReturnType<typeof setTimeout> | undefined;

/** Signs out when the token expires (the key is not kept, so a new sign-in is needed). */
function watchExpiry(s: Session | null): void {
  clearTimeout(expiryTimer);
  if (s !== null) expiryTimer = setTimeout(signOut, Math.max(0, Date.parse(s.expiresAt) - Date.now()));
}
watchExpiry(current);

function setSession(s: Session | null): void {
  current = s;
  watchExpiry(s);
  if (s === null) sessionStorage.removeItem(storageKey);
  else sessionStorage.setItem(storageKey, JSON.stringify(s));
  for (const fn of watchers) fn(s);
}

export function signOut(): void {
  setSession(null);
}

/** Exchanges an API key for a token, then asks who it is. */
export async function signIn(apiKey: string): Promise<Session> {
  const minted = await send<{ token: string; expires_at: string }>('POST', '/v1/tokens', {}, apiKey.trim());
  const who = await send<{ name: string; scope: Session['scope']; listener: string | null }>(
    'GET',
    '/v1/whoami',
    undefined,
    minted.token,
  );
  const s: Session = {
    token: minted.token,
    expiresAt: minted.expires_at,
    scope: who.scope,
    keyName: who.name,
    listener: who.listener,
  };
  setSession(s);
  return s;
}

async function send<T>(method: string, path: string, body: unknown, bearer: string): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
  if (!res.ok) {
    const p = (parsed ?? {}) as { code?: string; detail?: string; title?: string };
    throw new ApiError(
      res.status,
      p.code ?? 'ERROR',
      p.detail ?? p.title ?? `${res.status} ${res.statusText}`,
    );
  }
  return parsed as T;
}

/** A request with the session's token; a 401 (expired or revoked) signs out. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const s = current;
  if (s === null) throw new ApiError(401, 'SIGNED_OUT', 'sign in first');
  try {
    return await send<T>(method, path, body, s.token);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signOut();
    throw err;
  }
}

/** Query string from the defined entries. */
export function qs(params: Record<string, string | number | boolean | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s === '' ? '' : `?${s}`;
}

/** Does the server have this route (features that land later: connectors, mapping suggestions)? */
let openapiPaths: Promise<Set<string>> | undefined;
export function serverHasPath(path: string): Promise<boolean> {
  openapiPaths ??= fetch('/openapi.json')
    .then((r) => (r.ok ? (r.json() as Promise<{ paths?: Record<string, unknown> }>) : { paths: {} }))
    .then((doc) => new Set(Object.keys(doc.paths ?? {})))
    .catch(() => new Set<string>());
  return openapiPaths.then((paths) => paths.has(path));
}

// SPDX-License-Identifier: MIT
// API key format, pure: `tmi_<key id, 32 hex>_<secret, 64 hex>`. The key id finds the row; the 256-bit
// secret is compared by its SHA-256 in constant time. Keys are shown once; only the hash is stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const apiKeyPrefix = 'tmi_';
/** Random bytes of a key's secret. */
export const apiKeySecretBytes = 32;
/** Longest credential accepted at all (a key is 101 characters; a token some hundreds). */
export const credentialLengthMax = 4096;

const apiKeyPattern = /^tmi_([0-9a-f]{32})_([0-9a-f]{64})$/;
const jwtPattern = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

export interface NewKeySecret {
  /** The key as the client sends it; shown once. */
  readonly token: string;
  readonly secretSha256: string;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function newApiKeySecret(keyId: string): NewKeySecret {
  const secret = randomBytes(apiKeySecretBytes).toString('hex');
  return { token: `${apiKeyPrefix}${keyId.replaceAll('-', '')}_${secret}`, secretSha256: sha256Hex(secret) };
}

/** The key id (as a UUID) and secret of an API key; undefined if it is not shaped like one. */
export function parseApiKey(token: string): { keyId: string; secret: string } | undefined {
  const m = apiKeyPattern.exec(token);
  if (!m) return undefined;
  const h = m[1]!;
  return {
    keyId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
    secret: m[2]!,
  };
}

/** Constant-time comparison of a presented secret with the stored hash. */
export function secretMatches(secret: string, storedSha256: string): boolean {
  const a = Buffer.from(sha256Hex(secret), 'hex');
  const b = Buffer.from(storedSha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function looksLikeJwt(token: string): boolean {
  return token.length <= credentialLengthMax && jwtPattern.test(token);
}

/** The credential of an `Authorization: Bearer <credential>` header (scheme case-insensitive). */
export function parseBearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  if (!m || m[1]!.length > credentialLengthMax) return undefined;
  return m[1];
}

/** How a key is shown after creation: its prefix only. */
export function keyHint(keyId: string): string {
  return `${apiKeyPrefix}${keyId.replaceAll('-', '').slice(0, 8)}…`;
}

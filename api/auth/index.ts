// SPDX-License-Identifier: MIT
export type { Principal, RouteAccess } from './access.js';
export {
  anonymousAdmin,
  keyIsActive,
  mayReadListener,
  mayUseRoute,
  mayWrite,
  principalOf,
  routeAccesses,
} from './access.js';
export type { AuthResult } from './authenticator.js';
export { Authenticator, keyCacheTtlMs } from './authenticator.js';
export {
  apiKeyPrefix,
  keyHint,
  looksLikeJwt,
  newApiKeySecret,
  parseApiKey,
  parseBearer,
  secretMatches,
} from './credentials.js';
export type { AuthHookDeps } from './hook.js';
export { principalOfRequest, publicRoutePrefixes, registerAuthHook, routeAccess } from './hook.js';
export type { KeySpec } from './keys.js';
export { adminKeyPath, createApiKey, ensureAdminKey, readAdminKey } from './keys.js';
export { RateLimiter, takeToken } from './rate-limit.js';
export { natsSpeakerAuthenticator } from './speaker.js';
export type { MintedToken, VerifiedToken } from './tokens.js';
export { jwtSecretPath, TokenRejectedError, TokenService } from './tokens.js';

// SPDX-License-Identifier: MIT
export {
  Authenticator,
  adminKeyPath,
  ensureAdminKey,
  jwtSecretPath,
  natsSpeakerAuthenticator,
  RateLimiter,
  readAdminKey,
  TokenService,
} from './auth/index.js';
export type { ApiContext } from './context.js';
export { buildServer } from './server.js';

// SPDX-License-Identifier: MIT
// The NATS speaker connector's authentication: the `Authorization: Bearer <key or token>` NATS header,
// checked with the same keys, rate limits, scopes and grants as an HTTP write.
import type { SpeakerAuthenticator, SpeakerIdentity } from '../../connectors/index.js';
import { RequestRejectedError } from '../../errors/index.js';
import { anonymousAdmin, mayUseRoute, mayWrite, type Principal } from './access.js';
import type { Authenticator } from './authenticator.js';
import { parseBearer } from './credentials.js';
import type { RateLimiter } from './rate-limit.js';

export function natsSpeakerAuthenticator(deps: {
  readonly enabled: boolean;
  readonly authenticator: Authenticator;
  readonly limiter: RateLimiter;
}): SpeakerAuthenticator {
  return async (authorization) => {
    if (!deps.enabled) return identityOf(anonymousAdmin, 'nats');
    const credential = parseBearer(authorization);
    if (credential === undefined) {
      throw new RequestRejectedError(
        'UNAUTHENTICATED',
        'send the NATS header Authorization: Bearer <API key or token>',
      );
    }
    const result = await deps.authenticator.authenticate(credential);
    if (!result.ok) throw new RequestRejectedError(result.code, result.detail);
    const p = result.principal;
    const rate = deps.limiter.take(p.keyId);
    if (!rate.allowed) {
      throw new RequestRejectedError(
        'RATE_LIMITED',
        `this key sent more requests than it may; retry after ${rate.retryAfterS} s`,
      );
    }
    if (!mayUseRoute('speaker', p.scope)) {
      throw new RequestRejectedError('FORBIDDEN', `a ${p.scope} key may not write events`);
    }
    return identityOf(p, p.keyId);
  };
}

function identityOf(p: Principal, speaker: string): SpeakerIdentity {
  return {
    speaker,
    allows: (targetId: string, kind: string) => mayWrite(p, targetId, kind),
    attrs: p.via === 'anonymous' ? {} : ({ key_name: p.keyName.slice(0, 200) } as Record<string, string>),
  };
}

// SPDX-License-Identifier: MIT
// Short-lived tokens (JWT via jose) minted from an API key, for browsers that should not hold the key.
// One algorithm is configured (HS256 or EdDSA) and it is the only one verification accepts, so
// `alg: none` and algorithm confusion (an HS256 token "signed" with the EdDSA public key, an RS256
// token, …) are refused; `iss`, `aud` and `exp` are required and checked. A token names its key
// (`sub`): revoking the key kills its tokens.

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { type Config, ConfigError } from '../../config/index.js';
import { TaggedError } from '../../errors/index.js';
import { uuidv7 } from '../../schemas/index.js';

/** Shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size). */
export const jwtSecretBytesMin = 32;
/** Tolerated clock difference between the minting and the verifying process. */
export const jwtClockToleranceS = 5;

export interface MintedToken {
  readonly token: string;
  readonly expiresAtMs: number;
}

export interface VerifiedToken {
  readonly keyId: string;
  readonly expiresAtMs: number;
}

/** Why a token was refused; `expired` is told to the client, the rest is one "not valid". */
export class TokenRejectedError extends TaggedError('TokenRejectedError')<
  'TOKEN_EXPIRED' | 'TOKEN_INVALID'
> {}

type Keys =
  | { alg: 'HS256'; secret: Uint8Array }
  | { alg: 'EdDSA'; privateKey: KeyObject; publicKey: KeyObject };

export class TokenService {
  private constructor(
    private readonly keys: Keys,
    private readonly issuer: string,
    private readonly audience: string,
    readonly ttlMsMax: number,
  ) {}

  /** Reads the signing material from TMIDB_JWT_SECRET, else from (or first into) TMIDB_HOME, mode 0600. */
  static load(config: Config): TokenService {
    const keys = config.jwtAlg === 'EdDSA' ? edKeys(config) : hsKeys(config);
    return new TokenService(keys, config.jwtIssuer, config.jwtAudience, config.jwtTtlMs);
  }

  get algorithm(): 'HS256' | 'EdDSA' {
    return this.keys.alg;
  }

  async mint(
    claims: { keyId: string; scope: string; listener: string | null },
    ttlMs: number,
    nowMs = Date.now(),
  ): Promise<MintedToken> {
    const expiresAtMs = nowMs + Math.min(ttlMs, this.ttlMsMax);
    const jwt = new SignJWT({
      scope: claims.scope,
      ...(claims.listener ? { listener: claims.listener } : {}),
    })
      .setProtectedHeader({ alg: this.keys.alg, typ: 'JWT' })
      .setSubject(claims.keyId)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt(Math.floor(nowMs / 1000))
      .setExpirationTime(Math.floor(expiresAtMs / 1000))
      .setJti(uuidv7(nowMs));
    const token = await jwt.sign(this.keys.alg === 'HS256' ? this.keys.secret : this.keys.privateKey);
    return { token, expiresAtMs: Math.floor(expiresAtMs / 1000) * 1000 };
  }

  async verify(token: string): Promise<VerifiedToken> {
    try {
      const { payload } = await jwtVerify(
        token,
        this.keys.alg === 'HS256' ? this.keys.secret : this.keys.publicKey,
        {
          algorithms: [this.keys.alg],
          issuer: this.issuer,
          audience: this.audience,
          requiredClaims: ['exp', 'sub', 'iat'],
          clockTolerance: jwtClockToleranceS,
        },
      );
      return { keyId: String(payload.sub), expiresAtMs: payload.exp! * 1000 };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw new TokenRejectedError('TOKEN_EXPIRED', 'the token has expired');
      throw new TokenRejectedError('TOKEN_INVALID', 'the token is not valid');
    }
  }
}

/** Writes a secret file once (0600, never overwritten; a concurrent starter's file wins). */
function readOrCreate(file: string, make: () => string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  if (!existsSync(file)) {
    try {
      writeFileSync(file, make(), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8');
}

export function jwtSecretPath(home: string, alg: 'HS256' | 'EdDSA'): string {
  return path.join(home, alg === 'HS256' ? 'jwt.secret' : 'jwt-ed25519.pem');
}

function hsKeys(config: Config): Keys {
  const text =
    config.jwtSecret ??
    readOrCreate(jwtSecretPath(config.home, 'HS256'), () => randomBytes(48).toString('base64url')).trim();
  const secret = new TextEncoder().encode(text);
  if (secret.length < jwtSecretBytesMin) {
    throw new ConfigError(`TMIDB_JWT_SECRET must be at least ${jwtSecretBytesMin} bytes for HS256`);
  }
  return { alg: 'HS256', secret };
}

function edKeys(config: Config): Keys {
  const pem =
    config.jwtSecret ??
    readOrCreate(jwtSecretPath(config.home, 'EdDSA'), () =>
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ConfigError('TMIDB_JWT_SECRET must be an Ed25519 private key in PKCS#8 PEM for EdDSA');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError('TMIDB_JWT_SECRET must be an Ed25519 private key for EdDSA');
  }
  return { alg: 'EdDSA', privateKey, publicKey: createPublicKey(privateKey) };
}

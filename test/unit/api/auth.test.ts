// SPDX-License-Identifier: MIT

import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  anonymousAdmin,
  keyIsActive,
  mayReadListener,
  mayUseRoute,
  mayWrite,
  newApiKeySecret,
  type Principal,
  parseApiKey,
  parseBearer,
  RateLimiter,
  type RouteAccess,
  secretMatches,
  TokenRejectedError,
  TokenService,
  takeToken,
} from '../../../api/auth/index.js';
import { loadConfig } from '../../../config/index.js';

describe('mayUseRoute', () => {
  const table: [RouteAccess, boolean, boolean, boolean][] = [
    // access, admin, speaker, listener
    ['public', true, true, true],
    ['authenticated', true, true, true],
    ['admin', true, false, false],
    ['speaker', true, true, false],
    ['listener', true, false, true],
  ];
  it.each(table)('%s: admin %s, speaker %s, listener %s', (access, admin, speaker, listener) => {
    expect([
      mayUseRoute(access, 'admin'),
      mayUseRoute(access, 'speaker'),
      mayUseRoute(access, 'listener'),
    ]).toEqual([admin, speaker, listener]);
  });
});

function principal(p: Partial<Principal>): Principal {
  return { ...anonymousAdmin, via: 'key', ...p };
}

describe('object-level checks', () => {
  const speaker = principal({
    scope: 'speaker',
    grantTargets: new Set(['t1']),
    grantKinds: new Set(['door']),
  });
  it.each([
    [anonymousAdmin, 't9', 'x', true],
    [speaker, 't1', 'probe', true],
    [speaker, 't2', 'door', true],
    [speaker, 't2', 'probe', false],
    [principal({ scope: 'listener', listenerId: 'l1' }), 't1', 'probe', false],
  ])('mayWrite(%j, %s, %s) → %s', (p, target, kind, expected) => {
    expect(mayWrite(p, target, kind)).toBe(expected);
  });

  it.each([
    [anonymousAdmin, 'l1', true],
    [principal({ scope: 'listener', listenerId: 'l1' }), 'l1', true],
    [principal({ scope: 'listener', listenerId: 'l1' }), 'l2', false],
    [speaker, 'l1', false],
  ])('mayReadListener → %s', (p, listener, expected) => {
    expect(mayReadListener(p, listener)).toBe(expected);
  });

  it.each([
    [{ revoked_at: null, expires_at: null }, true],
    [{ revoked_at: '2026-01-01T00:00:00Z', expires_at: null }, false],
    [{ revoked_at: null, expires_at: '2026-01-01T00:00:01Z' }, true],
    [{ revoked_at: null, expires_at: '2026-01-01T00:00:00Z' }, false],
  ])('keyIsActive(%j) at 2026-01-01T00:00:00Z → %s', (row, expected) => {
    expect(keyIsActive(row, Date.parse('2026-01-01T00:00:00Z'))).toBe(expected);
  });
});

describe('credentials', () => {
  it('a new key parses back to its id, and only its own secret matches its hash', () => {
    const keyId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const { token, secretSha256 } = newApiKeySecret(keyId);
    expect(token).toMatch(/^tmi_[0-9a-f]{32}_[0-9a-f]{64}$/);
    const parsed = parseApiKey(token)!;
    expect(parsed.keyId).toBe(keyId);
    expect(secretMatches(parsed.secret, secretSha256)).toBe(true);
    expect(secretMatches(`${parsed.secret.slice(0, -1)}0`, secretSha256)).toBe(parsed.secret.endsWith('0'));
    expect(secretMatches(parsed.secret, 'ab')).toBe(false);
  });

  it.each([
    ['tmi_0193a1b2c3d47e5f8a9b0c1d2e3f4a5b', false],
    [`tmi_${'a'.repeat(32)}_${'b'.repeat(63)}`, false],
    [`tmi_${'A'.repeat(32)}_${'b'.repeat(64)}`, false],
    [`tmi_${'a'.repeat(32)}_${'b'.repeat(64)}`, true],
    [`xtmi_${'a'.repeat(32)}_${'b'.repeat(64)}`, false],
  ])('parseApiKey(%s) parses: %s', (token, ok) => {
    expect(parseApiKey(token) !== undefined).toBe(ok);
  });

  it.each([
    [undefined, undefined],
    ['', undefined],
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Bearer a b', undefined],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    [`Bearer ${'x'.repeat(5000)}`, undefined],
  ])('parseBearer(%j) → %j', (header, expected) => {
    expect(parseBearer(header)).toBe(expected);
  });
});

describe('rate limit', () => {
  it.each([
    // tokens before, elapsed ms, rate/s, burst → allowed, retry after s
    [undefined, 0, 10, 5, true, 0],
    [{ tokens: 0, updatedMs: 0 }, 0, 10, 5, false, 1],
    [{ tokens: 0, updatedMs: 0 }, 100, 10, 5, true, 0],
    [{ tokens: 0, updatedMs: 0 }, 50, 10, 5, false, 1],
    [{ tokens: 0, updatedMs: 0 }, 0, 0.1, 5, false, 10],
    [{ tokens: 4.5, updatedMs: 0 }, 1_000_000, 10, 5, true, 0],
  ])(
    'bucket %j after %d ms at %d/s burst %d → %s (retry %d s)',
    (bucket, elapsed, rate, burst, allowed, retry) => {
      const r = takeToken(bucket, elapsed, rate, burst);
      expect([r.allowed, r.retryAfterS]).toEqual([allowed, retry]);
      expect(r.bucket.tokens).toBeLessThanOrEqual(burst);
    },
  );

  it('lets a burst through, then the sustained rate, per key', () => {
    const limiter = new RateLimiter(2, 3);
    const t0 = 1_000_000;
    expect([0, 1, 2, 3].map(() => limiter.take('a', t0).allowed)).toEqual([true, true, true, false]);
    expect(limiter.take('b', t0).allowed).toBe(true);
    expect(limiter.take('a', t0 + 500).allowed).toBe(true);
    expect(limiter.take('a', t0 + 500).allowed).toBe(false);
    expect(new RateLimiter(0, 1).take('a').allowed).toBe(true);
  });
});

describe('tokens', () => {
  const home = () => mkdtempSync(path.join(os.tmpdir(), 'tmidb-tokens-'));

  it('HS256: mints and verifies; keeps the generated secret in a 0600 file; refuses other algorithms', async () => {
    const config = loadConfig({}, { home: home() });
    const tokens = TokenService.load(config);
    const minted = await tokens.mint({ keyId: 'k1', scope: 'admin', listener: null }, 60_000);
    expect(await tokens.verify(minted.token)).toMatchObject({ keyId: 'k1' });
    expect(statSync(path.join(config.home, 'jwt.secret')).mode & 0o777).toBe(0o600);
    // A second process on the same home verifies the first one's tokens.
    expect(await TokenService.load(config).verify(minted.token)).toMatchObject({ keyId: 'k1' });
    const other = TokenService.load(loadConfig({}, { home: home() }));
    await expect(other.verify(minted.token)).rejects.toBeInstanceOf(TokenRejectedError);
  });

  it('EdDSA: an HS256 token "signed" with the public key (algorithm confusion) is refused', async () => {
    const config = loadConfig({}, { home: home(), jwtAlg: 'EdDSA' });
    const tokens = TokenService.load(config);
    const minted = await tokens.mint({ keyId: 'k1', scope: 'admin', listener: null }, 60_000);
    expect(JSON.parse(Buffer.from(minted.token.split('.')[0]!, 'base64url').toString())).toMatchObject({
      alg: 'EdDSA',
    });
    expect(await tokens.verify(minted.token)).toMatchObject({ keyId: 'k1' });
    const { createPrivateKey, createPublicKey } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const pem = readFileSync(path.join(config.home, 'jwt-ed25519.pem'), 'utf8');
    const publicPem = createPublicKey(createPrivateKey(pem))
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('k1')
      .setIssuer(config.jwtIssuer)
      .setAudience(config.jwtAudience)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(publicPem));
    await expect(tokens.verify(confused)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('k1')
      .setIssuer(config.jwtIssuer)
      .setAudience(config.jwtAudience)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(generateKeyPairSync('ed25519').privateKey);
    await expect(tokens.verify(foreign)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('caps the lifetime at TMIDB_JWT_TTL_MS and reports expiry apart from invalidity', async () => {
    const config = loadConfig({}, { home: home(), jwtTtlMs: 60_000 });
    const tokens = TokenService.load(config);
    const now = Date.now();
    const minted = await tokens.mint({ keyId: 'k1', scope: 'admin', listener: null }, 3_600_000, now);
    expect(minted.expiresAtMs - now).toBeLessThanOrEqual(60_000);
    const old = await tokens.mint({ keyId: 'k1', scope: 'admin', listener: null }, 10_000, now - 3_600_000);
    await expect(tokens.verify(old.token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    await expect(tokens.verify('a.b.c')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('refuses a short HS256 secret from the environment', () => {
    expect(() => TokenService.load(loadConfig({ TMIDB_JWT_SECRET: 'short' }, { home: home() }))).toThrow(
      /at least 32/,
    );
  });
});

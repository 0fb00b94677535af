// SPDX-License-Identifier: MIT
// Who may do what: every route is admin-only unless it says otherwise (routes added later included);
// wrong, revoked and expired keys, expired / unsigned / wrongly signed tokens, foreign Origins, listener
// keys on admin routes and speakers writing outside their grants are refused with the right status,
// and the answers leak nothing: unknown and forbidden objects read exactly alike.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { jwtSecretPath } from '../../api/auth/index.js';
import {
  countRows,
  eventually,
  pipelineCaughtUp,
  startTestTmidb,
  type TestResponse,
  type TestTmidb,
} from '../support/tmidb.js';
import { TestWsClient } from '../support/ws-client.js';

let t: TestTmidb;
let nc: NatsConnection;
let a: string;
let b: string;
let door: string;
const keys: Record<'watch' | 'other' | 'speakerA' | 'speakerDoors', { key: string; key_id: string }> =
  {} as never;
const zero = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  t = await startTestTmidb('auth_access');
  nc = await connect({ servers: t.env.natsUrl });
  const mk = async (kind: string) =>
    (await t.request('POST', '/v1/targets', { name: kind, kind })).body.target_id;
  a = await mk('probe');
  b = await mk('probe');
  door = await mk('door');
  await t.request('POST', '/v1/listeners', {
    name: 'watch',
    subscriptions: [{ target_id: a, fields: ['temp'] }],
  });
  await t.request('POST', '/v1/listeners', { name: 'other', subscriptions: [{ target_id: b }] });
  const key = async (body: Record<string, unknown>) => (await t.request('POST', '/v1/keys', body)).body;
  keys.watch = await key({ name: 'w', scope: 'listener', listener: 'watch' });
  keys.other = await key({ name: 'o', scope: 'listener', listener: 'other' });
  keys.speakerA = await key({ name: 'sa', scope: 'speaker', grants: { targets: [a] } });
  keys.speakerDoors = await key({ name: 'sd', scope: 'speaker', grants: { kinds: ['door'] } });
});
afterAll(async () => {
  await nc?.close();
  await t?.stop();
});

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
const none = { authorization: '' };

/** A problem body holds the RFC 9457 members and nothing else; no credential, SQL or stack in it. */
function expectCleanProblem(res: TestResponse, status: number): void {
  expect(res.status).toBe(status);
  expect(res.contentType).toContain('application/problem+json');
  expect(Object.keys(res.body).sort()).toEqual(['code', 'detail', 'instance', 'status', 'title', 'type']);
  const text = JSON.stringify(res.body);
  for (const leak of [t.adminKey, keys.watch.key, 'SELECT', 'at ', 'Error:', 'secret_sha256', '.ts:']) {
    expect(text).not.toContain(leak);
  }
}

describe('routes', () => {
  it('every route is admin-only unless it declares otherwise — including routes added by others', async () => {
    const doc = await t.request('GET', '/openapi.json', undefined, none);
    expect(doc.status).toBe(200);
    const declared: Record<string, 'public' | 'speaker' | 'listener' | 'authenticated'> = {
      'GET /healthz': 'public',
      'GET /tmi/ws': 'public',
      'POST /v1/targets/{id}/events': 'speaker',
      'POST /v1/events': 'speaker',
      'PUT /v1/targets/{id}/files/{name}': 'speaker',
      'POST /v1/targets/{id}/files': 'speaker',
      'POST /v1/files/{file_id}/complete': 'speaker',
      'GET /v1/files/{file_id}': 'authenticated',
      'GET /api/{listener}': 'listener',
      'GET /api/{listener}/{target_id}': 'listener',
      'GET /api/{listener}/{target_id}/obs': 'listener',
      'POST /v1/tokens': 'authenticated',
      'GET /v1/whoami': 'authenticated',
    };
    let adminRoutes = 0;
    for (const [route, ops] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) {
        const name = `${method.toUpperCase()} ${route}`;
        const url = route.replace(/\{listener\}/g, 'watch').replace(/\{[^}]+\}/g, zero);
        const anonymous = await t.request(method.toUpperCase(), url, undefined, none);
        const asListener = await t.request(method.toUpperCase(), url, undefined, bearer(keys.watch.key));
        const asSpeaker = await t.request(method.toUpperCase(), url, undefined, bearer(keys.speakerA.key));
        const access = declared[name];
        if (access === 'public') {
          expect(anonymous.status, name).not.toBe(401);
          continue;
        }
        expectCleanProblem(anonymous, 401);
        if (access === undefined) {
          adminRoutes++;
          expectCleanProblem(asListener, 403);
          expectCleanProblem(asSpeaker, 403);
        } else if (access === 'speaker') {
          expectCleanProblem(asListener, 403);
        } else if (access === 'listener') {
          expectCleanProblem(asSpeaker, 403);
        }
      }
    }
    expect(adminRoutes).toBeGreaterThan(15);
    for (const documented of [
      '/v1/keys',
      '/v1/tokens',
      '/v1/whoami',
      '/v1/listeners',
      '/api/{listener}',
      '/tmi/ws',
    ]) {
      expect(doc.body.paths[documented], documented).toBeDefined();
    }
    expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Plugin routes and documents stay public; unknown routes don't reveal themselves without a key.
    expect((await t.request('GET', '/docs/', undefined, none)).status).toBe(200);
    expect((await t.request('GET', '/healthz', undefined, none)).status).toBe(200);
    expectCleanProblem(await t.request('GET', '/v1/nothing', undefined, none), 401);
    expectCleanProblem(await t.request('GET', '/v1/nothing'), 404);
    expectCleanProblem(await t.request('GET', '/metrics', undefined, bearer(keys.watch.key)), 403);
    expect((await t.request('GET', '/metrics')).status).toBe(200);
  });
});

describe('credentials', () => {
  it('refuses missing, malformed, wrong, revoked and expired keys alike (401), without saying why', async () => {
    const revoked = (await t.request('POST', '/v1/keys', { name: 'r', scope: 'admin' })).body;
    expect((await t.request('DELETE', `/v1/keys/${revoked.key_id}`)).status).toBe(204);
    const expiring = (
      await t.request('POST', '/v1/keys', {
        name: 'e',
        scope: 'admin',
        expires_at: new Date(Date.now() + 1500).toISOString(),
      })
    ).body;
    expect((await t.request('GET', '/v1/whoami', undefined, bearer(expiring.key))).status).toBe(200);
    await eventually(
      'the key to expire',
      async () => (await t.request('GET', '/v1/whoami', undefined, bearer(expiring.key))).status === 401,
    );
    const wrongSecret = `${t.adminKey.slice(0, -4)}0000`;
    const attempts: Record<string, string>[] = [
      none,
      { authorization: 'Basic YWRtaW46YWRtaW4=' },
      { authorization: 'Bearer' },
      bearer('tmi_0123'),
      bearer(wrongSecret),
      bearer(revoked.key),
      bearer(expiring.key),
      bearer(`tmi_${'f'.repeat(32)}_${'0'.repeat(64)}`),
    ];
    const details = new Set<string>();
    for (const h of attempts) {
      const res = await t.request('GET', '/v1/targets', undefined, h);
      expectCleanProblem(res, 401);
      expect(res.body.code).toBe('UNAUTHENTICATED');
      details.add(res.body.detail);
    }
    // Two answers only: "send a credential" and "it is not valid" — never which part was wrong.
    expect(details.size).toBe(2);
    const res = await fetch(`${t.url}/v1/targets`);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});

describe('tokens', () => {
  it('tokens: minted from a key, checked for alg, signature, iss, aud and exp; a revoked key ends them', async () => {
    const bare = await t.request('POST', '/v1/tokens', undefined, bearer(keys.watch.key));
    expect(bare.status).toBe(201);
    expect(bare.body.expires_in).toBeLessThanOrEqual(t.config.jwtTtlMs / 1000);
    expect((await t.request('POST', '/v1/tokens', { ttl_s: 1 }, bearer(keys.watch.key))).status).toBe(400);
    const minted = await t.request('POST', '/v1/tokens', { ttl_s: 60 }, bearer(keys.watch.key));
    expect(minted.status).toBe(201);
    expect(minted.body).toMatchObject({ token_type: 'Bearer' });
    expect(minted.body.expires_in).toBeLessThanOrEqual(60);
    const token = minted.body.token as string;
    const who = await t.request('GET', '/v1/whoami', undefined, bearer(token));
    expect(who.body).toMatchObject({ scope: 'listener', listener: 'watch', via: 'token' });
    expect((await t.request('GET', '/api/watch', undefined, bearer(token))).status).toBe(200);
    expectCleanProblem(await t.request('POST', '/v1/tokens', {}, bearer(token)), 403);

    const secret = new TextEncoder().encode(
      readFileSync(jwtSecretPath(t.config.home, 'HS256'), 'utf8').trim(),
    );
    const claims = { scope: 'admin' };
    const base = () =>
      new SignJWT(claims)
        .setSubject(t.adminKeyId)
        .setIssuer(t.config.jwtIssuer)
        .setAudience(t.config.jwtAudience)
        .setIssuedAt();
    const good = await base().setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1m').sign(secret);
    expect((await t.request('GET', '/v1/targets', undefined, bearer(good))).status).toBe(200);

    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      sub: t.adminKeyId,
      iss: t.config.jwtIssuer,
      aud: t.config.jwtAudience,
      iat: now,
      exp: now + 60,
    };
    const ed = generateKeyPairSync('ed25519');
    const forged: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`,
      'HS512 with the right secret': await base()
        .setProtectedHeader({ alg: 'HS512' })
        .setExpirationTime('1m')
        .sign(secret),
      'EdDSA with a foreign key': await base()
        .setProtectedHeader({ alg: 'EdDSA' })
        .setExpirationTime('1m')
        .sign(ed.privateKey),
      'HS256 with another secret': await base()
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1m')
        .sign(new TextEncoder().encode('x'.repeat(48))),
      'wrong issuer': await base()
        .setIssuer('someone')
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1m')
        .sign(secret),
      'wrong audience': await base()
        .setAudience('other')
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1m')
        .sign(secret),
      'no exp': await base().setProtectedHeader({ alg: 'HS256' }).sign(secret),
      'payload swapped': `${good.split('.')[0]}.${b64({ ...payload, sub: keys.watch.key_id })}.${good.split('.')[2]}`,
    };
    for (const [what, jwt] of Object.entries(forged)) {
      const res = await t.request('GET', '/v1/targets', undefined, bearer(jwt));
      expectCleanProblem(res, 401);
      expect(res.body.code, what).toBe('UNAUTHENTICATED');
    }
    const expired = await base()
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now - 120)
      .sign(secret);
    const res = await t.request('GET', '/v1/targets', undefined, bearer(expired));
    expectCleanProblem(res, 401);
    expect(res.body.code).toBe('TOKEN_EXPIRED');

    expect((await t.request('DELETE', `/v1/keys/${keys.watch.key_id}`)).status).toBe(204);
    expectCleanProblem(await t.request('GET', '/api/watch', undefined, bearer(token)), 401);
    keys.watch = (
      await t.request('POST', '/v1/keys', { name: 'w2', scope: 'listener', listener: 'watch' })
    ).body;
  });
});

describe('object-level access', () => {
  it('a listener key reads its own listener only; another listener reads exactly like an unknown one', async () => {
    const h = bearer(keys.watch.key);
    expect((await t.request('GET', '/api/watch', undefined, h)).status).toBe(200);
    const foreign = await t.request('GET', '/api/other', undefined, h);
    const unknown = await t.request('GET', '/api/nobody', undefined, h);
    expectCleanProblem(foreign, 404);
    expectCleanProblem(unknown, 404);
    expect(foreign.body.detail.replace('other', 'X')).toBe(unknown.body.detail.replace('nobody', 'X'));
    expectCleanProblem(await t.request('GET', `/api/other/${b}`, undefined, h), 404);
    for (const [method, route] of [
      ['GET', '/v1/targets'],
      ['GET', `/v1/targets/${a}`],
      ['POST', '/v1/keys'],
      ['GET', '/v1/listeners'],
    ] as const) {
      expectCleanProblem(
        await t.request(method, route, method === 'POST' ? { name: 'x', scope: 'admin' } : undefined, h),
        403,
      );
    }
    const ws = await TestWsClient.open(t.url, { token: keys.watch.key, listener: 'other' });
    expect((await ws.closed).code).toBe(4004);
  });
});

describe('speaker grants', () => {
  it('a speaker writes only its granted targets and kinds, over REST and NATS; the rest reads as unknown', async () => {
    const sa = bearer(keys.speakerA.key);
    await pipelineCaughtUp(t, ['capture']); // earlier writes captured
    const before = await countRows(t, 'raw_bucket');
    expect((await t.request('POST', `/v1/targets/${a}/events`, { data: { temp: 1 } }, sa)).status).toBe(202);
    const forbidden = await t.request('POST', `/v1/targets/${b}/events`, { data: { temp: 1 } }, sa);
    const unknown = await t.request('POST', `/v1/targets/${zero}/events`, { data: { temp: 1 } }, sa);
    expectCleanProblem(forbidden, 404);
    expectCleanProblem(unknown, 404);
    expect(forbidden.body.code).toBe('TARGET_NOT_FOUND');
    expect(forbidden.body.detail.replace(b, 'X')).toBe(unknown.body.detail.replace(zero, 'X'));
    const mixed = await t.request(
      'POST',
      '/v1/events',
      [
        { target_id: a, data: { temp: 2 } },
        { target_id: door, data: { open: true } },
      ],
      sa,
    );
    expectCleanProblem(mixed, 404);
    const sd = bearer(keys.speakerDoors.key);
    expect((await t.request('POST', `/v1/targets/${door}/events`, { data: { open: true } }, sd)).status).toBe(
      202,
    );
    expectCleanProblem(await t.request('POST', `/v1/targets/${a}/events`, { data: { temp: 3 } }, sd), 404);
    expectCleanProblem(await t.request('GET', `/v1/targets/${door}`, undefined, sd), 403);
    expectCleanProblem(await t.request('POST', '/v1/targets', { name: 'x', kind: 'door' }, sd), 403);

    const speak = async (targetId: string, credential?: string) => {
      const h = natsHeaders();
      if (credential) h.set('Authorization', `Bearer ${credential}`);
      const reply = await nc.request(
        `${t.env.namespace}.speak.${targetId}`,
        JSON.stringify({ data: { temp: 4 } }),
        {
          timeout: 10_000,
          headers: h,
        },
      );
      return reply.json<{ event_id?: string; error?: { status: number; code: string; detail: string } }>();
    };
    expect((await speak(a)).error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect((await speak(a, 'tmi_bogus')).error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect((await speak(a, keys.watch.key)).error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await speak(b, keys.speakerA.key)).error).toMatchObject({
      status: 404,
      code: 'TARGET_NOT_FOUND',
    });
    expect((await speak(a, keys.speakerA.key)).event_id).toBeDefined();
    // Only the three granted writes (REST a, REST door, NATS a) got in.
    // Every write that reached TMI_IN is captured: a refused one that slipped through would count too.
    await pipelineCaughtUp(t, ['capture']);
    expect(await countRows(t, 'raw_bucket')).toBe(before + 3);
    const [row] = await t.sql<{ speaker: string; headers: { key_name: string } }>(
      'SELECT speaker, headers FROM tmi.raw_bucket WHERE target_id = $1 ORDER BY received_at DESC LIMIT 1',
      [a],
    );
    expect(row).toMatchObject({ speaker: keys.speakerA.key_id, headers: { key_name: 'sa' } });
  });
});

describe('limits and origins', () => {
  let u: TestTmidb;
  beforeAll(async () => {
    u = await startTestTmidb('auth_limits', {
      stages: [],
      config: {
        rateLimitPerS: 1,
        rateLimitBurst: 3,
        wsOrigins: 'https://app.example.com',
        wsHeartbeatMs: 300,
      },
    });
  });
  afterAll(async () => {
    await u?.stop();
  });

  it('answers 429 with Retry-After beyond a key’s rate; other keys are unaffected', async () => {
    const other = (await u.request('POST', '/v1/keys', { name: 'o', scope: 'admin' })).body.key;
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await u.request('GET', '/v1/whoami', undefined, bearer(other))).status);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
    const res = await fetch(`${u.url}/v1/whoami`, { headers: bearer(other) });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const fresh = (await u.request('POST', '/v1/keys', { name: 'f', scope: 'admin' }, bearer(u.adminKey)))
      .body.key;
    expect((await u.request('GET', '/v1/whoami', undefined, bearer(fresh))).status).toBe(200);
  });

  it('opens /tmi/ws only from allowed Origins, and never with a credential in the URL', async () => {
    await expect(
      TestWsClient.open(t.url, { token: 'x', raw: true, origin: 'https://evil.example' }),
    ).rejects.toThrow(/403/);
    const same = await TestWsClient.open(t.url, { token: 'x', raw: true, origin: t.url });
    same.terminate();
    const noOrigin = await TestWsClient.open(t.url, { token: 'x', raw: true });
    noOrigin.terminate();
    const allowed = await TestWsClient.open(u.url, {
      token: 'x',
      raw: true,
      origin: 'https://app.example.com',
    });
    allowed.terminate();
    await expect(TestWsClient.open(u.url, { token: 'x', raw: true, origin: u.url })).rejects.toThrow(/403/);
    const inUrl = new WebSocket(`${t.url.replace('http', 'ws')}/tmi/ws?token=${t.adminKey}`);
    const refused = await new Promise<number>((resolve) => {
      inUrl.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      inUrl.on('open', () => resolve(101));
      inUrl.on('error', () => {});
    });
    expect(refused).toBe(400);
    const plain = await t.request('GET', '/tmi/ws', undefined, none);
    expect(plain.status).toBe(426);
  });

  it('drops a client that stops answering heartbeats; one that answers stays', async () => {
    await u.request('POST', '/v1/listeners', { name: 'beat' });
    const deaf = new WebSocket(`${u.url.replace('http', 'ws')}/tmi/ws`, { autoPong: false });
    const alive = await TestWsClient.connect(u.url, { token: u.adminKey, listener: 'beat' });
    const dropped = new Promise<number>((resolve) => deaf.on('close', (code) => resolve(code)));
    deaf.on('open', () => {
      deaf.send(JSON.stringify({ type: 'auth', token: u.adminKey, listener: 'beat' }));
      deaf.send(JSON.stringify({ type: 'subscribe' }));
    });
    deaf.on('error', () => {});
    expect(await dropped).toBe(1006); // terminated: no close frame for a peer that stopped answering
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    alive.close();
  });
});

describe('TMIDB_AUTH=off', () => {
  it('makes every caller an admin (for a private laptop), speaking as its transport', async () => {
    const off = await startTestTmidb('auth_off', { stages: [], config: { auth: 'off' } });
    try {
      const who = await off.request('GET', '/v1/whoami', undefined, none);
      expect(who.body).toMatchObject({ scope: 'admin', via: 'anonymous' });
      expect((await off.request('POST', '/v1/targets', { name: 'x', kind: 'x' }, none)).status).toBe(201);
      await off.request('POST', '/v1/listeners', { name: 'open' }, none);
      const ws = await TestWsClient.connect(off.url, { token: 'anything', listener: 'open' });
      expect(ws.frames[0]!.type).toBe('ready');
      ws.close();
    } finally {
      await off.stop();
    }
  });
});

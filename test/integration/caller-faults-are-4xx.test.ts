// SPDX-License-Identifier: MIT
// 503 means "unavailable, retry" and nothing else: input that can never succeed is a 4xx that says what is
// wrong, on every route; an error of ours is a 500; every 5xx leaves a log line with its request id.
// And the last way in stays open: a key cannot revoke itself, nor can the last admin key be revoked.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertApiKey, revokeApiKey } from '../../projections/index.js';
import { startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
const logged: string[] = [];
beforeAll(async () => {
  t = await startTestTmidb('caller_faults', { log: (level, msg) => logged.push(`${level} ${msg}`) });
});
afterAll(async () => {
  await t?.stop();
});

describe('input that can never succeed is a 4xx, never a 503', () => {
  it.each<[string, string, string, unknown]>([
    ['NUL in a target name', 'POST', '/v1/targets', { name: 'a\u0000b', kind: 'k' }],
    ['NUL in a target meta value', 'POST', '/v1/targets', { name: 'a', kind: 'k', meta: { x: 'a\u0000' } }],
    ['NUL in a target meta key', 'POST', '/v1/targets', { name: 'a', kind: 'k', meta: { 'x\u0000': 1 } }],
    ['NUL in a listener description', 'POST', '/v1/listeners', { name: 'l1', description: 'd\u0000' }],
    ['NUL in a key name', 'POST', '/v1/keys', { name: 'k\u0000', scope: 'admin' }],
    [
      'NUL in an alarm rule value',
      'POST',
      '/v1/alarm-rules',
      { name: 'r', type: 'threshold', field: 'm', op: '==', value: 'idle\u0000' },
    ],
    [
      'NUL in a mapping rule kind',
      'POST',
      '/v1/mapping-rules',
      { kind: 'bo\u0000iler', field: 'x', action: 'drop' },
    ],
    ['a lone surrogate in a target name', 'POST', '/v1/targets', { name: 'a\uD800', kind: 'k' }],
  ])('%s → 400 naming where', async (_name, method, route, body) => {
    const res = await t.request(method, route, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.detail).toMatch(/body\..*(NUL|surrogate)/);
  });

  it('NUL in a path segment → 400 naming the path', async () => {
    const res = await t.request('GET', '/api/a%00b');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('INVALID_TEXT');
    expect(res.body.detail).toMatch(/^path\.listener holds the NUL character/);
  });

  it('a radius that underflows earth_box (5e-324) → 400 naming the limit', async () => {
    const res = await t.request('GET', '/v1/geo/near?lat=0&lon=0&radius_m=5e-324');
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/radius_m must be >= 0\.001/);
    const ok = await t.request('GET', '/v1/geo/near?lat=0&lon=0&radius_m=0.001');
    expect(ok.status).toBe(200);
  });
});

describe('errors of ours are a 500, logged with the request id', () => {
  it('an undefined table (42P01) is a 500 INTERNAL_ERROR, not a 503, and leaves a log line', async () => {
    await t.sql('ALTER TABLE tmi.alarm_rule RENAME TO alarm_rule_away');
    try {
      const res = await t.request('GET', '/v1/alarm-rules', undefined, {
        'x-request-id': 'req-under-test-1',
      });
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('INTERNAL_ERROR');
      expect(res.body.detail).toMatch(/req-under-test-1/);
    } finally {
      await t.sql('ALTER TABLE tmi.alarm_rule_away RENAME TO alarm_rule');
    }
    expect(logged.some((l) => /^error request req-under-test-1 GET \/v1\/alarm-rules → 500/.test(l))).toBe(
      true,
    );
  });

  it('answers every request with its request id', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('the last way in stays open', () => {
  it('a key cannot revoke itself (409 KEY_REVOKES_ITSELF)', async () => {
    const res = await t.request('DELETE', `/v1/keys/${t.adminKeyId}`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('KEY_REVOKES_ITSELF');
    expect(res.body.detail).toMatch(/cannot revoke itself/);
    expect((await t.request('GET', '/v1/whoami')).status).toBe(200);
  });

  it('two admin keys revoking each other at once leave one in force (the other is told why)', async () => {
    const a = (await t.request('POST', '/v1/keys', { name: 'a admin', scope: 'admin' })).body;
    const b = (await t.request('POST', '/v1/keys', { name: 'b admin', scope: 'admin' })).body;
    // The runtime's own admin key goes first (by a), so a and b are the only two in force.
    const byA = { authorization: `Bearer ${a.key}` };
    expect((await t.request('DELETE', `/v1/keys/${t.adminKeyId}`, undefined, byA)).status).toBe(204);
    const answers = await Promise.all([
      t.request('DELETE', `/v1/keys/${b.key_id}`, undefined, byA),
      t.request('DELETE', `/v1/keys/${a.key_id}`, undefined, { authorization: `Bearer ${b.key}` }),
    ]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses[0]).toBe(204);
    // The loser was either checked after the winner's revocation (401) or refused as the last (409).
    expect([401, 409]).toContain(statuses[1]);
    const refused = answers.find((r) => r.status === 409);
    if (refused) expect(refused.body.code).toBe('LAST_ADMIN_KEY');
    const [row] = await t.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM tmi.api_key WHERE scope = 'admin' AND revoked_at IS NULL",
    );
    expect(row!.n).toBe(1);
  });

  it('the last admin key in force cannot be revoked (LAST_ADMIN_KEY), expired ones do not count', async () => {
    const [last] = await t.sql<{ key_id: string }>(
      "SELECT key_id FROM tmi.api_key WHERE scope = 'admin' AND revoked_at IS NULL",
    );
    const expired = await insertApiKey(t.runtime.pool, {
      key_id: randomUUID(),
      name: 'old admin',
      scope: 'admin',
      secret_sha256: '0'.repeat(64),
      listener_id: null,
      grant_targets: [],
      grant_kinds: [],
      expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    expect(await revokeApiKey(t.runtime.pool, last!.key_id)).toBe('last_admin');
    expect(await revokeApiKey(t.runtime.pool, expired.key_id)).toBe('revoked');
    expect(await revokeApiKey(t.runtime.pool, expired.key_id)).toBe('not_found');
  });
});

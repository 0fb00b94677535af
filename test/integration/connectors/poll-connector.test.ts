// SPDX-License-Identifier: MIT
// The poll connector against a local HTTP server this test starts: JSON (JSONPath, targets by name with
// creation, ts from a path) with ETag/304, HTML (CSS selectors, numbers with units), CSV (targets by meta),
// content-hash dedupe, 429 + Retry-After, 500, a response past the timeout, a redirect loop, an oversized
// body, a body that is not JSON, an item without its key, and the SSRF guard on a redirect.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectorDlqSubject } from '../../../connectors/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../../support/tmidb.js';

let t: TestTmidb;
let server: http.Server;
let base: string;
const hits = new Map<string, { total: number; notModified: number }>();
/** The Authorization header each redirected request arrived with. */
const authSeen = new Map<string, string | undefined>();

const stations = JSON.stringify({
  stations: [
    { id: 'A', t: 21.5, h: 40, time: '2026-11-25T10:00:00Z' },
    { id: 'B', t: 19, h: 55, time: '2026-11-25T10:00:01Z' },
  ],
});
const stationsEtag = `"${createHash('sha1').update(stations).digest('hex')}"`;
const html = `<html><body><table>
  <tr class="st"><td class="id">north</td><td class="t">21.5 °C</td><td><a href="/n">more</a></td></tr>
  <tr class="st"><td class="id">south</td><td class="t">1,204.5 kWh</td><td><a href="/s">more</a></td></tr>
</table></body></html>`;
const csv = 'code,temp,label\nX1,20.5,first\nX2,18,second\n';
const csvModified = 'Wed, 25 Nov 2026 09:00:00 GMT';

function count(path: string, notModified = false): void {
  const h = hits.get(path) ?? { total: 0, notModified: 0 };
  h.total++;
  if (notModified) h.notModified++;
  hits.set(path, h);
}

const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
  '/stations.json': (req, res) => {
    const fresh = req.headers['if-none-match'] === stationsEtag;
    count('/stations.json', fresh);
    if (fresh) return res.writeHead(304).end();
    res.writeHead(200, { 'content-type': 'application/json', etag: stationsEtag }).end(stations);
  },
  '/page.html': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html),
  '/data.csv': (_req, res) => res.writeHead(200, { 'content-type': 'text/csv' }).end(csv),
  '/dated.csv': (req, res) => {
    const fresh = req.headers['if-modified-since'] === csvModified;
    count('/dated.csv', fresh);
    if (fresh) return res.writeHead(304).end();
    res.writeHead(200, { 'content-type': 'text/csv', 'last-modified': csvModified }).end(csv);
  },
  '/same.json': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"v": 1}'),
  '/limited': (_req, res) => res.writeHead(429, { 'retry-after': '30' }).end('slow down'),
  '/broken': (_req, res) => res.writeHead(500).end('oops'),
  '/slow': (_req, res) => {
    const timer = setTimeout(() => res.writeHead(200).end('{}'), 5_000);
    res.on('close', () => clearTimeout(timer));
  },
  '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
  '/big': (_req, res) => {
    // Chunked, without Content-Length: the limit must hold while the body streams in.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`{"pad": "${'x'.repeat(25_000)}`);
    res.end(`${'x'.repeat(25_000)}"}`);
  },
  '/bad.json': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"not json'),
  '/nokey.json': (_req, res) =>
    res.writeHead(200).end(JSON.stringify([{ id: 'K1', v: 1 }, { v: 2 }, { id: 'K3', v: 3 }])),
  '/hop-same': (_req, res) => res.writeHead(302, { location: '/echo-auth?same' }).end(),
  '/hop-other': (_req, res) =>
    res.writeHead(302, { location: base.replace('127.0.0.1', 'localhost') + '/echo-auth?other' }).end(),
  '/echo-auth': (req, res) => {
    authSeen.set(req.url!.split('?')[1]!, req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"v": 1}');
  },
  '/to-metadata': (_req, res) =>
    res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    count(`${path}#any`);
    (routes[path] ?? ((_q, r) => r.writeHead(404).end()))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await startTestTmidb('poll_connector', {
    stages: ['capture'],
    connectors: 'all',
    config: { pollAllowPrivate: 'on', connectorLeaseMs: 2_000, connectorBackoffInitialMs: 200 },
  });
});

afterAll(async () => {
  await t?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

async function create(name: string, config: Record<string, unknown>): Promise<void> {
  const res = await t.request('POST', '/v1/connectors', { name, type: 'poll', config });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function status(name: string): Promise<any> {
  return (await t.request('GET', `/v1/connectors/${name}/status`)).body;
}

async function events(
  name: string,
): Promise<{ target: string; kind: string; payload: any; occurred_at: Date }[]> {
  return t.sql(
    `SELECT t.name AS target, t.kind, r.payload, r.occurred_at FROM tmi.raw_bucket r JOIN tmi.target t USING (target_id)
     WHERE r.speaker = $1 ORDER BY t.name`,
    [`poll:${name}`],
  );
}

async function lastDeadLetter(name: string): Promise<any> {
  const jsm = await jetstreamManager(t.runtime.nc);
  const m = await jsm.streams.getMessage(t.runtime.topology.streams.dlq.name, {
    last_by_subj: connectorDlqSubject(t.runtime.topology.namespace, name),
  });
  return m?.json();
}

it('JSON: items by JSONPath, targets by name created, ts from a path; then 304s emit nothing', async () => {
  await create('stations', {
    url: `${base}/stations.json`,
    interval_s: 1,
    format: 'json',
    items: '$.stations[*]',
    target: { by: 'name', path: '$.id', create_kind: 'station' },
    fields: { temp: '$.t', humidity: '/h' },
    ts: '$.time',
  });
  await eventually('two station events', async () => (await events('stations')).length === 2);
  const got = await events('stations');
  expect(got.map((e) => [e.target, e.kind, e.payload, e.occurred_at.toISOString()])).toEqual([
    ['A', 'station', { temp: 21.5, humidity: 40 }, '2026-11-25T10:00:00.000Z'],
    ['B', 'station', { temp: 19, humidity: 55 }, '2026-11-25T10:00:01.000Z'],
  ]);
  await eventually(
    'two conditional requests answered 304',
    async () => (hits.get('/stations.json')?.notModified ?? 0) >= 2,
  );
  const s = await status('stations');
  expect(s.state).toBe('running');
  expect(s.events_emitted).toBe(2);
  expect(s.cursor).toMatchObject({ etag: stationsEtag });
  expect(s.last_error).toBeNull();
});

it('HTML: CSS selectors per field, numbers with units parsed, attributes', async () => {
  await create('page', {
    url: `${base}/page.html`,
    interval_s: 60,
    format: 'html',
    items: 'tr.st',
    target: { by: 'name', path: 'td.id', create_kind: 'meter' },
    fields: { temp: 'td.t', link: 'a@href', energy: { path: 'td.t', unit: 'kwh' } },
  });
  await eventually('two page events', async () => (await events('page')).length === 2).catch(async (err) => {
    throw new Error(`${err.message}: ${JSON.stringify(await status('page'))}`);
  });
  expect((await events('page')).map((e) => [e.target, e.payload])).toEqual([
    ['north', { temp: 21.5, link: '/n', energy_kwh: 21.5 }],
    ['south', { temp: 1204.5, link: '/s', energy_kwh: 1204.5 }],
  ]);
});

it('CSV: header row → fields, targets by meta member', async () => {
  await create('sheet', {
    url: `${base}/data.csv`,
    interval_s: 60,
    format: 'csv',
    target: { by: 'meta.code', path: 'code', create_kind: 'sensor' },
    fields: { temp: 'temp', label: 'label' },
  });
  await eventually('two sheet events', async () => (await events('sheet')).length === 2);
  expect((await events('sheet')).map((e) => e.payload)).toEqual([
    { temp: 20.5, label: 'first' },
    { temp: 18, label: 'second' },
  ]);
  const meta = await t.sql<{ meta: unknown }>(
    `SELECT meta FROM tmi.target WHERE kind = 'sensor' ORDER BY name`,
  );
  expect(meta.map((m) => m.meta)).toEqual([{ code: 'X1' }, { code: 'X2' }]);
});

it('a body equal to the last one (by content hash) publishes nothing', async () => {
  // Re-published copies would be dropped downstream too (same event ids); the hash check must stop them
  // before accept(), which counts every event it publishes — the only poll connector publishing now.
  const accepted = async () => {
    const m = /tmidb_events_accepted_total\{transport="poll"\} (\d+)/.exec(
      (await t.request('GET', '/metrics')).body,
    );
    return Number(m?.[1] ?? 0);
  };
  const before = await accepted();
  const target = (await t.request('POST', '/v1/targets', { name: 'same-1', kind: 'thing' })).body.target_id;
  await create('same', { url: `${base}/same.json`, interval_s: 1, target: { id: target } });
  await eventually(
    'three fetches of the same body',
    async () => (hits.get('/same.json#any')?.total ?? 0) >= 3,
  );
  await eventually('the third fetch read', async () => (await status('same')).bytes_read >= 3 * 8);
  expect(await accepted()).toBe(before + 1);
  expect((await events('same')).length).toBe(1);
  expect((await status('same')).events_emitted).toBe(1);
});

it('429 with Retry-After: backing off until then; 500: backing off; both recorded', async () => {
  await create('limited', { url: `${base}/limited`, interval_s: 1, target: { by: 'name', path: '$.id' } });
  await create('broken', { url: `${base}/broken`, interval_s: 1, target: { by: 'name', path: '$.id' } });
  await eventually('429 recorded', async () => (await status('limited')).last_error?.code === 'HTTP_429');
  const s = await status('limited');
  expect(s.state).toBe('backing_off');
  expect(Date.parse(s.next_run_at) - Date.parse(s.last_error.at)).toBeGreaterThanOrEqual(29_000);
  await eventually(
    'two 500s in a row',
    async () => (await status('broken')).consecutive_failures >= 2,
    20_000,
  );
  const b = await status('broken');
  expect([b.state, b.last_error.code]).toEqual(['backing_off', 'HTTP_500']);
  expect(b.last_success_at).toBeNull();
});

it('a response past timeout_ms, a redirect loop and an oversized body fail with their reason', async () => {
  const target = { by: 'name', path: '$.id' };
  await create('slow', { url: `${base}/slow`, interval_s: 1, timeout_ms: 300, target });
  await create('loop', { url: `${base}/loop`, interval_s: 1, redirects_max: 3, target });
  await create('big', { url: `${base}/big`, interval_s: 1, body_bytes_max: 10_000, target });
  await create('ssrf', { url: `${base}/to-metadata`, interval_s: 1, target });
  const expected: Record<string, [string, string]> = {
    slow: ['backing_off', 'TIMEOUT'],
    loop: ['failing', 'TOO_MANY_REDIRECTS'],
    big: ['failing', 'BODY_TOO_LARGE'],
    ssrf: ['failing', 'DESTINATION_REFUSED'],
  };
  for (const [name, [state, code]] of Object.entries(expected)) {
    await eventually(`${name}: ${code}`, async () => (await status(name)).last_error?.code === code, 20_000);
    expect((await status(name)).state, name).toBe(state);
    expect((await status(name)).events_emitted, name).toBe(0);
  }
  expect(hits.get('/loop#any')!.total).toBeGreaterThanOrEqual(4);
  expect((await status('ssrf')).last_error.message).toContain('169.254.169.254');
});

it('a body that is not JSON and an item without its key: status and dead letter, the other items emitted', async () => {
  await create('bad', { url: `${base}/bad.json`, interval_s: 60, target: { by: 'name', path: '$.id' } });
  await create('nokey', {
    url: `${base}/nokey.json`,
    interval_s: 60,
    items: '$[*]',
    target: { by: 'name', path: '$.id', create_kind: 'thing' },
  });
  await eventually(
    'bad body recorded',
    async () => (await status('bad')).last_error?.code === 'BODY_UNPARSABLE',
  );
  expect((await status('bad')).items_rejected).toBe(1);
  expect(await lastDeadLetter('bad')).toMatchObject({
    connector: 'bad',
    origin: 'body',
    code: 'BODY_UNPARSABLE',
  });
  await eventually('two keyed items emitted', async () => (await events('nokey')).length === 2);
  expect((await events('nokey')).map((e) => e.payload)).toEqual([
    { id: 'K1', v: 1 },
    { id: 'K3', v: 3 },
  ]);
  const s = await status('nokey');
  expect([s.items_rejected, s.last_error.code]).toEqual([1, 'TARGET_KEY_MISSING']);
  expect(await lastDeadLetter('nokey')).toMatchObject({
    origin: 'items[1]',
    code: 'TARGET_KEY_MISSING',
    item: { v: 2 },
  });
});

it('refuses a definition naming the bad member, and redacts header secrets', async () => {
  const bad = await t.request('POST', '/v1/connectors', {
    name: 'nope',
    type: 'poll',
    config: { url: `${base}/x`, interval_s: 0, target: { by: 'name', path: '$.id' } },
  });
  expect([bad.status, bad.body.code]).toEqual([400, 'INVALID_CONNECTOR']);
  expect(bad.body.detail).toMatch(/^config\.interval_s /);
  const html = await t.request('POST', '/v1/connectors', {
    name: 'nope',
    type: 'poll',
    config: { url: `${base}/x`, interval_s: 5, format: 'html', target: { by: 'name', path: 'td' } },
  });
  expect(html.body.detail).toMatch(/^config\.fields /);
  await create('secret', {
    url: `${base}/same.json`,
    cron: '0 0 1 1 *',
    headers: { authorization: 'Bearer s3cr3t-token' },
    target: { by: 'name', path: '$.id' },
  });
  const got = await t.request('GET', '/v1/connectors/secret');
  expect(got.body.config.headers).toEqual({ authorization: '***' });
  // Sending the redacted value back keeps the stored secret.
  const patched = await t.request('PATCH', '/v1/connectors/secret', { config: got.body.config });
  expect(patched.status).toBe(200);
  const [row] = await t.sql<{ config: any }>(`SELECT config FROM tmi.ingest_connector WHERE name = 'secret'`);
  expect(row!.config.headers.authorization).toBe('Bearer s3cr3t-token');
  expect((await t.request('DELETE', '/v1/connectors/secret')).status).toBe(204);
  expect((await t.request('GET', '/v1/connectors/secret')).status).toBe(404);
});

it('exposes per-connector Prometheus metrics', async () => {
  const res = await t.request('GET', '/metrics');
  expect(res.body).toMatch(/tmidb_connector_events_emitted_total\{connector="stations",type="poll"\} 2/);
  expect(res.body).toMatch(
    /tmidb_connector_failures_total\{connector="broken",type="poll",code="HTTP_500"\} \d+/,
  );
  expect(res.body).toMatch(/tmidb_connector_state\{connector="limited",type="poll",state="backing_off"\} 1/);
});

it('sends the configured headers after a redirect to the same origin only', async () => {
  const target = (await t.request('POST', '/v1/targets', { name: 'hop-1', kind: 'thing' })).body.target_id;
  const config = { interval_s: 60, headers: { authorization: 'Bearer only-for-us' }, target: { id: target } };
  await create('hop-same', { ...config, url: `${base}/hop-same` });
  await create('hop-other', { ...config, url: `${base}/hop-other` });
  await eventually('both redirects followed', async () => authSeen.has('same') && authSeen.has('other'));
  expect(authSeen.get('same')).toBe('Bearer only-for-us');
  expect(authSeen.get('other')).toBeUndefined();
});

it('Last-Modified: sends If-Modified-Since; a 304 emits nothing', async () => {
  const target = (await t.request('POST', '/v1/targets', { name: 'dated-1', kind: 'thing' })).body.target_id;
  await create('dated', { url: `${base}/dated.csv`, interval_s: 1, format: 'csv', target: { id: target } });
  await eventually('two 304s', async () => (hits.get('/dated.csv')?.notModified ?? 0) >= 2);
  const s = await status('dated');
  expect([s.events_emitted, s.cursor.last_modified]).toEqual([2, csvModified]);
  expect((await events('dated')).length).toBe(2);
});
